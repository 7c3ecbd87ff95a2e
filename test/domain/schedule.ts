// Random schedules of commands for property tests: a wall clock that jitters (and sometimes jumps
// backwards), starts, heartbeats, stops and sweeper expiries, driven through decide + evolve.
import fc from 'fast-check';
import { decide, evolve, initialState, type Decision, type MiningCommand, type MiningState, type SessionSettings } from '../../src/domain/decider.js';
import { validateEvent, type MiningEvent } from '../../src/domain/events.js';
import { parseIso } from '../../src/domain/time.js';
import { ACCOUNT, DAY } from './fixtures.js';

export interface Settings extends SessionSettings {
  minHeartbeatIntervalMs: number;
  graceMs: number;
}

/** How far the wall clock moves before a command: per mille of T, exactly T or T + 1, or backwards. */
export type Jump = number | 'T' | 'T+1';

export interface Step {
  /** 'wait' only lets the clock move (never generated: used to take commands out of a schedule). */
  kind: 'start' | 'heartbeat' | 'stop' | 'expire' | 'wait';
  jump: Jump;
  /** heartbeat only: which sessionId the client sends. */
  claim: 'none' | 'active' | 'foreign';
}

export const FOREIGN_SESSION = 'ffffffff-ffff-7fff-bfff-ffffffffffff';

export function sessionIdOf(step: number): string {
  return `00000000-0000-7000-8000-${step.toString().padStart(12, '0')}`;
}

export const settingsArb: fc.Arbitrary<Settings> = fc
  .record({
    rateUnitsPerHour: fc.bigInt({ min: 0n, max: 10n ** 12n }),
    heartbeatTimeoutMs: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1_000, max: 600_000 })),
    // M and the minimum interval as per mille of T, so that each can bind whatever T is.
    maxPerMille: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20_000 })),
    minPerMille: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 500 })),
    graceMs: fc.integer({ min: 0, max: 5_000 }),
  })
  .map(({ maxPerMille, minPerMille, ...s }) => ({
    ...s,
    maxSessionMs: Math.ceil((s.heartbeatTimeoutMs * maxPerMille) / 1_000),
    minHeartbeatIntervalMs: Math.floor((s.heartbeatTimeoutMs * minPerMille) / 1_000),
  }));

export function stepArb(backwards: boolean): fc.Arbitrary<Step> {
  const jumps: fc.WeightedArbitrary<Jump>[] = [
    { arbitrary: fc.integer({ min: 0, max: 200 }), weight: 6 },
    { arbitrary: fc.integer({ min: 0, max: 1_500 }), weight: 2 },
    { arbitrary: fc.constantFrom<Jump>('T', 'T+1', 0), weight: 1 },
  ];
  if (backwards) jumps.push({ arbitrary: fc.integer({ min: -1_000, max: -1 }), weight: 1 });
  return fc.record({
    kind: fc.constantFrom<Step['kind']>('start', 'start', 'heartbeat', 'heartbeat', 'heartbeat', 'heartbeat', 'heartbeat', 'stop', 'expire'),
    jump: fc.oneof(...jumps),
    claim: fc.constantFrom<Step['claim']>('none', 'none', 'active', 'foreign'),
  });
}

export function scheduleArb(backwards = true, maxLength = 60): fc.Arbitrary<{ settings: Settings; steps: Step[] }> {
  return fc.record({ settings: settingsArb, steps: fc.array(stepArb(backwards), { maxLength, size: 'max' }) });
}

export interface Run {
  stream: MiningEvent[];
  state: MiningState;
  /** Every decision with the state it was taken in. */
  decisions: { before: MiningState; command: MiningCommand; decision: Decision }[];
}

/** The wall clock after a jump. */
export function advance(clock: number, jump: Jump, timeout: number): number {
  if (jump === 'T') return clock + timeout;
  if (jump === 'T+1') return clock + timeout + 1;
  return clock + Math.trunc((timeout * jump) / 1_000);
}

function commandOf(step: Step, index: number, now: number, state: MiningState, settings: Settings): MiningCommand | null {
  switch (step.kind) {
    case 'wait':
      return null;
    case 'start':
      return { type: 'start', accountId: ACCOUNT, now, sessionId: sessionIdOf(index), ...settings };
    case 'heartbeat': {
      const sessionId = step.claim === 'active' ? state.active?.sessionId : step.claim === 'foreign' ? FOREIGN_SESSION : undefined;
      return { type: 'heartbeat', now, sessionId, minHeartbeatIntervalMs: settings.minHeartbeatIntervalMs };
    }
    case 'stop':
      return { type: 'stop', now };
    case 'expire':
      return { type: 'expire', now, graceMs: settings.graceMs };
  }
}

/** Runs a schedule through the decider, the way the command handler would, minus the store. */
export function run(settings: Settings, steps: Step[]): Run {
  let clock = DAY;
  let state = initialState;
  const stream: MiningEvent[] = [];
  const decisions: Run['decisions'] = [];
  steps.forEach((step, index) => {
    clock = advance(clock, step.jump, settings.heartbeatTimeoutMs);
    const command = commandOf(step, index, clock, state, settings);
    if (command === null) return;
    const decision = decide(state, command);
    decisions.push({ before: state, command, decision });
    for (const event of decision.events) {
      validateEvent(event.type, event.data, 'decided event');
      state = evolve(state, event);
      stream.push(event);
    }
  });
  return { stream, state, decisions };
}

export const atOf = (event: MiningEvent): number => parseIso(event.data.at)!;
