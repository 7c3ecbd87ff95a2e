// The deadline index against plain models: the heap against a sorted list, the index against the
// decider's own fold (deadlineOf of evolve's state) over random multi-account histories.
import fc from 'fast-check';
import t from 'tap';
import { decide, evolve, initialState, type MiningCommand, type MiningState } from '../../src/domain/decider.js';
import { deadlineOf } from '../../src/domain/session.js';
import { createDeadlineHeap } from '../../src/sweeper/deadline-heap.js';
import { createSessionIndex } from '../../src/sweeper/session-index.js';

const runs = { numRuns: 200 };

type HeapOp = { op: 'insert' | 'lower' | 'remove' | 'pop'; slot: number; key: number };
const heapOpArb: fc.Arbitrary<HeapOp> = fc.record({
  op: fc.constantFrom('insert', 'insert', 'lower', 'remove', 'pop'),
  slot: fc.integer({ min: 0, max: 40 }),
  key: fc.integer({ min: 0, max: 1000 }),
});

t.test('the heap pops, lowers and removes like a sorted list of (key, slot)', async (t) => {
  fc.assert(
    fc.property(fc.array(heapOpArb, { maxLength: 300 }), (ops) => {
      const heap = createDeadlineHeap(4);
      const model = new Map<number, number>();
      for (const { op, slot, key } of ops) {
        if (op === 'insert' && !model.has(slot)) {
          heap.insert(slot, key);
          model.set(slot, key);
        } else if (op === 'lower' && model.has(slot)) {
          heap.lower(slot, key);
          model.set(slot, Math.min(key, model.get(slot)!));
        } else if (op === 'remove') {
          heap.remove(slot);
          model.delete(slot);
        } else if (op === 'pop') {
          const least = Math.min(...model.values());
          const top = heap.pop();
          if (model.size === 0) {
            if (top !== -1) return false;
            continue;
          }
          if (model.get(top) !== least) return false;
          model.delete(top);
        }
        if (heap.size !== model.size) return false;
        for (const [s, k] of model) if (heap.keyOf(s) !== k) return false;
      }
      const below: number[] = [];
      heap.forEachBelow(500, (slot) => below.push(slot));
      const expected = [...model].filter(([, k]) => k < 500).map(([s]) => s);
      return below.sort((a, b) => a - b).join() === expected.sort((a, b) => a - b).join();
    }),
    runs,
  );
  t.pass('matches the model');
});

const ACCOUNTS = ['a', 'b', 'c', 'd'];
type Step = { account: number; kind: 'start' | 'heartbeat' | 'stop' | 'expire'; jump: number; timeout: number; max: number };
const stepArb: fc.Arbitrary<Step> = fc.record({
  account: fc.integer({ min: 0, max: ACCOUNTS.length - 1 }),
  kind: fc.constantFrom('start', 'heartbeat', 'heartbeat', 'heartbeat', 'stop', 'expire'),
  // Small steps against T, so heartbeats often move deadlines on and leave stale heap keys behind.
  jump: fc.integer({ min: 0, max: 800 }),
  timeout: fc.constantFrom(1_000, 3_000),
  max: fc.constantFrom(0, 0, 4_000),
});

function commandOf(step: Step, now: number, n: number): MiningCommand {
  switch (step.kind) {
    case 'start':
      return {
        type: 'start', accountId: ACCOUNTS[step.account]!, now, sessionId: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
        rateUnitsPerHour: 1n, heartbeatTimeoutMs: step.timeout, maxSessionMs: step.max,
      };
    case 'heartbeat':
      return { type: 'heartbeat', now, minHeartbeatIntervalMs: 0 };
    case 'stop':
      return { type: 'stop', now };
    case 'expire':
      return { type: 'expire', now, graceMs: 0 };
  }
}

t.test("the index holds deadlineOf(the decider's state) for every account after every event, and takes due sessions earliest first", async (t) => {
  fc.assert(
    fc.property(fc.array(stepArb, { maxLength: 120 }), fc.integer({ min: 0, max: 6_000 }), (steps, probe) => {
      const index = createSessionIndex(2);
      const states = new Map<string, MiningState>();
      let now = 1_000_000;
      for (const [n, step] of steps.entries()) {
        now += step.jump;
        const account = ACCOUNTS[step.account]!;
        let state = states.get(account) ?? initialState;
        for (const event of decide(state, commandOf(step, now, n)).events) {
          state = evolve(state, event);
          index.apply(`mining-${account}`, event);
        }
        states.set(account, state);
        for (const [other, s] of states) {
          if (index.deadlineOf(`mining-${other}`) !== (s.active ? deadlineOf(s.active) : undefined)) return false;
        }
      }
      const bound = now - 2_000 + probe;
      const due = [...states].filter(([, s]) => s.active && deadlineOf(s.active) < bound).map(([a, s]) => deadlineOf(s.active!));
      const taken: number[] = [];
      for (let slot = index.takeDue(bound); slot >= 0; slot = index.takeDue(bound)) taken.push(slot);
      const takenDeadlines = taken.map((slot) => index.deadlineOf(index.streamOf(slot))!);
      if (takenDeadlines.join() !== due.sort((x, y) => x - y).join()) return false;
      if (index.countOverdue(bound) !== 0 || index.taken !== taken.length) return false;
      for (const slot of taken) index.handBack(slot);
      return index.countOverdue(bound) === due.length && index.size === [...states.values()].filter((s) => s.active).length;
    }),
    runs,
  );
  t.pass('agrees with the decider');
});

t.test('a session that ends while a sweep holds it frees its slot when handed back; a new session takes another', async (t) => {
  const index = createSessionIndex();
  const started = (id: string, at: string) => ({
    type: 'MiningStarted' as const,
    data: { sessionId: id, accountId: 'x', at, rateUnitsPerHour: '1', heartbeatTimeoutMs: 1000, maxSessionMs: 0 },
  });
  const first = '00000000-0000-7000-8000-000000000001';
  const second = '00000000-0000-7000-8000-000000000002';
  index.apply('mining-x', started(first, '2026-01-01T00:00:00.000Z'));
  const slot = index.takeDue(Date.UTC(2026, 0, 1, 1));
  t.ok(slot >= 0);
  index.apply('mining-x', { type: 'MiningStopped', data: { sessionId: first, at: '2026-01-01T00:00:01.000Z', reason: 'timeout' } });
  index.apply('mining-x', started(second, '2026-01-01T00:10:00.000Z'));
  t.equal(index.size, 1);
  t.equal(index.taken, 0, 'the held session has ended');
  index.handBack(slot);
  t.equal(index.deadlineOf('mining-x'), Date.UTC(2026, 0, 1, 0, 10, 1));
  t.equal(index.countOverdue(Date.UTC(2026, 0, 1, 1)), 1, 'only the second session is left');
  index.apply('mining-x', { type: 'Heartbeat', data: { sessionId: first, at: '2026-01-01T00:10:00.500Z' } });
  t.equal(index.deadlineOf('mining-x'), Date.UTC(2026, 0, 1, 0, 10, 1), "a heartbeat of the ended session changes nothing");
});
