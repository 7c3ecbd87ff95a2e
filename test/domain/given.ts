// given(events).when(command).then(events | error): specifications of the decider that read like
// the rules. The history is folded with `evolve`, the command decided with `decide`, and the whole
// stream (history + decision) can be replayed with `accrue` to check what it credits.
import type { Test } from 'tap';
import { accrue, type AccountAccrual } from '../../src/domain/accrual.js';
import { decide, stateOf, type Decision, type DomainErrorCode, type MiningCommand, type MiningState } from '../../src/domain/decider.js';
import { validateEvent, type MiningEvent } from '../../src/domain/events.js';

export interface Flags {
  created?: boolean;
  recorded?: boolean;
}

export interface Outcome {
  readonly decision: Decision;
  /** Decision state after the recorded events. */
  readonly state: MiningState;
  /** History followed by the recorded events. */
  readonly stream: MiningEvent[];
  /** The stream replayed the way the projector and the auditor replay it. */
  replay(): AccountAccrual;
  /** Asserts the events recorded and that the command succeeded. */
  then(expected: MiningEvent[], flags?: Flags): Outcome;
  /** Asserts that nothing was recorded and the command succeeded. */
  thenNothing(flags?: Flags): Outcome;
  /** Asserts the error, and the events recorded even so (an expired heartbeat records its stop). */
  thenFails(code: DomainErrorCode, expected?: MiningEvent[]): Outcome;
}

/** Events, or lists of them, nested as they read best. */
export type History = MiningEvent | readonly History[];

export interface Specification {
  given(...history: History[]): { when(command: MiningCommand): Outcome };
}

export function flatten(history: readonly History[]): MiningEvent[] {
  return history.flatMap((item) => ('type' in item ? [item] : flatten(item as readonly History[])));
}

export function specification(t: Test): Specification {
  function checkFlags(decision: Decision, flags: Flags): void {
    if (flags.created !== undefined) t.equal(decision.created, flags.created, `created is ${flags.created}`);
    if (flags.recorded !== undefined) t.equal(decision.recorded, flags.recorded, `recorded is ${flags.recorded}`);
  }

  function outcomeOf(history: MiningEvent[], command: MiningCommand): Outcome {
    const before = stateOf(history);
    const decision = decide(before, command);
    // Whatever the decider records must pass the same validation as a write to the store.
    for (const event of decision.events) validateEvent(event.type, event.data, 'decided event');
    const outcome: Outcome = {
      decision,
      state: stateOf(decision.events, before),
      stream: [...history, ...decision.events],
      replay: () => accrue(outcome.stream, { intervals: true }),
      then(expected, flags = {}) {
        t.same(decision.events, expected, 'records the expected events');
        t.equal(decision.error, undefined, 'succeeds');
        checkFlags(decision, flags);
        return outcome;
      },
      thenNothing(flags = {}) {
        t.same(decision.events, [], 'records nothing');
        t.equal(decision.error, undefined, 'succeeds');
        checkFlags(decision, flags);
        return outcome;
      },
      thenFails(code, expected = []) {
        t.equal(decision.error, code, `fails with ${code}`);
        t.same(decision.events, expected, expected.length ? 'records the expected events first' : 'records nothing');
        return outcome;
      },
    };
    return outcome;
  }

  return {
    given: (...history) => ({ when: (command) => outcomeOf(flatten(history), command) }),
  };
}
