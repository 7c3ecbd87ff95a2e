// The handler against the pure decider as its model: random schedules are run once through
// decide + evolve and once through two command handlers (two processes, each with its own cache)
// taking turns at random on one real store. Answers and stored events must be the same.
import fc from 'fast-check';
import t from 'tap';
import { virtualClock } from '../../src/commands/clock.js';
import type { CommandRequest } from '../../src/commands/handler.js';
import type { MiningEvent } from '../../src/domain/events.js';
import { DAY } from '../domain/fixtures.js';
import { advance, FOREIGN_SESSION, run, scheduleArb, type Step } from '../domain/schedule.js';
import { AS_USER, openStore, rig, streamEvents } from './support.js';

const store = await openStore(t);
let accounts = 0;

/** An event without its session id (ids are generated differently in the two worlds). */
const shape = (e: MiningEvent) => `${e.type}@${e.data.at}${e.type === 'MiningStopped' ? `:${e.data.reason}` : ''}`;

function requestOf(step: Step, active: string | undefined): CommandRequest {
  if (step.kind === 'heartbeat') {
    const sessionId = step.claim === 'active' ? active : step.claim === 'foreign' ? FOREIGN_SESSION : undefined;
    return { type: 'heartbeat', sessionId };
  }
  return { type: step.kind as 'start' | 'stop' | 'expire' };
}

t.test('two handlers taking turns answer and write exactly what the decider decides', async (t) => {
  await fc.assert(
    fc.asyncProperty(scheduleArb(true, 30), fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), async ({ settings, steps }, turns) => {
      const model = run(settings, steps);
      const account = `model-${++accounts}`;
      const clock = virtualClock(DAY);
      const handlers = [rig(store, { clock }), rig(store, { clock })];
      for (const h of handlers) h.settings = { ...settings, sweepGraceMs: settings.graceMs };
      let now = DAY;
      for (const [i, step] of steps.entries()) {
        now = advance(now, step.jump, settings.heartbeatTimeoutMs);
        clock.set(now);
        const active = model.decisions[i]!.before.active ? await activeSessionId(account) : undefined;
        const answer = await handlers[turns[i] ? 1 : 0]!.handler.execute(account, requestOf(step, active), AS_USER);
        const expected = model.decisions[i]!.decision;
        t.same(
          { error: answer.decision.error, created: answer.decision.created, recorded: answer.decision.recorded, events: answer.decision.events.map(shape) },
          { error: expected.error, created: expected.created, recorded: expected.recorded, events: expected.events.map(shape) },
          `step ${i}: ${step.kind}`,
        );
      }
      const stored = (await streamEvents(store, `mining-${account}`)).map((e) => shape(e.event));
      t.same(stored, model.stream.map(shape), 'the stored stream is the model stream');
    }),
    { numRuns: 12, seed: 7 },
  );
});

async function activeSessionId(account: string): Promise<string | undefined> {
  const events = await streamEvents(store, `mining-${account}`);
  const last = events.findLast((e) => e.event.type === 'MiningStarted');
  return last?.event.type === 'MiningStarted' ? last.event.data.sessionId : undefined;
}
