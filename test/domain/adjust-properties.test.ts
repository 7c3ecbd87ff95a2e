// Properties of SPEC §10 over random interleavings of sessions and adjustments: the balance is
// Σ session earnings + Σ adjustments, it never goes below zero, and the adjust decision agrees with
// the fold the projector and the auditor use.
import fc from 'fast-check';
import t from 'tap';
import { accrue } from '../../src/domain/accrual.js';
import { adjustmentStateOf, decideAdjust } from '../../src/domain/adjustment.js';
import { decide, stateOf, type MiningCommand } from '../../src/domain/decider.js';
import { validateEvent, type MiningEvent } from '../../src/domain/events.js';
import { MAX_UNITS, parseAdjustmentAmount, formatTokens } from '../../src/domain/money.js';
import { sessionEarnedUnits } from '../../src/domain/session.js';
import { ACCOUNT, DAY, DEFAULTS } from './fixtures.js';

type Step =
  | { kind: 'start' | 'heartbeat' | 'stop' | 'expire'; gapMs: number }
  | { kind: 'adjust'; gapMs: number; amountUnits: bigint; repeat: boolean };

const gap = fc.integer({ min: 0, max: 8 * 60_000 });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constantFrom('start' as const, 'heartbeat' as const, 'stop' as const, 'expire' as const), gapMs: gap }),
  fc.record({
    kind: fc.constant('adjust' as const),
    gapMs: gap,
    amountUnits: fc.oneof(fc.bigInt({ min: -50_000_000n, max: 50_000_000n }), fc.bigInt({ min: -MAX_UNITS, max: MAX_UNITS })),
    repeat: fc.boolean(),
  }),
);

const uuid = (n: number) => `0190f0e0-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

function run(steps: Step[]): { stream: MiningEvent[]; balances: bigint[]; adjustedUnits: bigint } {
  const stream: MiningEvent[] = [];
  const balances: bigint[] = [];
  let now = DAY;
  let ids = 0;
  let lastAdjustment: string | null = null;
  let adjustedUnits = 0n;
  for (const s of steps) {
    now += s.gapMs;
    if (s.kind === 'adjust') {
      const id: string = s.repeat && lastAdjustment !== null ? lastAdjustment : uuid(++ids);
      const decision = decideAdjust(adjustmentStateOf(stream), {
        type: 'adjust', accountId: ACCOUNT, now, adjustmentId: id, amountUnits: s.amountUnits, reason: 'correction', note: 'property',
      });
      for (const event of decision.events) {
        validateEvent(event.type, event.data);
        adjustedUnits += s.amountUnits;
        lastAdjustment = id;
      }
      stream.push(...decision.events);
    } else {
      const command: MiningCommand =
        s.kind === 'start' ? { type: 'start', accountId: ACCOUNT, now, sessionId: uuid(++ids), ...DEFAULTS }
          : s.kind === 'heartbeat' ? { type: 'heartbeat', now, minHeartbeatIntervalMs: 0 }
            : s.kind === 'stop' ? { type: 'stop', now } : { type: 'expire', now, graceMs: 2000 };
      stream.push(...decide(stateOf(stream), command).events);
    }
    balances.push(accrue(stream).balanceUnits);
  }
  return { stream, balances, adjustedUnits };
}

t.test('balance = Σ session earnings + Σ adjustments, and never below zero', async (t) => {
  fc.assert(
    fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
      const { stream, balances, adjustedUnits } = run(steps);
      const replay = accrue(stream);
      const earned = replay.sessions.reduce((sum, s) => sum + sessionEarnedUnits(s.session), 0n);
      const adjustments = stream.filter((e) => e.type === 'BalanceAdjusted').reduce((sum, e) => sum + BigInt(e.data.amountUnits), 0n);
      return replay.balanceUnits === earned + adjustments && adjustments === adjustedUnits &&
        balances.every((b) => b >= 0n && b <= MAX_UNITS);
    }),
    { numRuns: 300, seed: 12 },
  );
  t.pass('300 random interleavings hold the property');
});

t.test('the adjust decision sees the balance the fold computes, so its result is the fold after it', async (t) => {
  fc.assert(
    fc.property(fc.array(step, { maxLength: 40 }), fc.bigInt({ min: -100_000_000n, max: 100_000_000n }), (steps, amount) => {
      const { stream } = run(steps);
      const decision = decideAdjust(adjustmentStateOf(stream), {
        type: 'adjust', accountId: ACCOUNT, now: DAY + 10 * 3_600_000, adjustmentId: uuid(99_999), amountUnits: amount === 0n ? 1n : amount,
        reason: 'goodwill', note: 'property',
      });
      return decision.balanceUnits === accrue([...stream, ...decision.events]).balanceUnits;
    }),
    { numRuns: 200, seed: 13 },
  );
  t.pass('200 random streams agree');
});

t.test('a signed amount round-trips through its token text', async (t) => {
  fc.assert(
    fc.property(fc.bigInt({ min: -MAX_UNITS, max: MAX_UNITS }).filter((n) => n !== 0n), (units) =>
      parseAdjustmentAmount(formatTokens(units)) === units),
    { numRuns: 500, seed: 14 },
  );
  t.equal(parseAdjustmentAmount('-7.64'), -764_000_000n);
  t.equal(parseAdjustmentAmount('12.00000001'), 1_200_000_001n);
  for (const bad of ['0', '-0', '0.0', '-0.00000000', '1e3', '0.000000001', '1.123456789', '+1', '01', '.5', '1.', ' 1', '', '--1', '92233720368.54775808']) {
    t.throws(() => parseAdjustmentAmount(bad), { name: 'MoneyError' }, `"${bad}" is refused`);
  }
  t.equal(parseAdjustmentAmount('-92233720368.54775807'), -MAX_UNITS);
});
