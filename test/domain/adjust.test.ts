// SPEC §10, *adjust*: given a stream, when an adjustment is asked for, then it is recorded, answered
// as the original, or refused — and the balance is Σ session earnings + Σ adjustments.
import t, { type Test } from 'tap';
import { accrue } from '../../src/domain/accrual.js';
import { adjustmentStateOf, decideAdjust, type AdjustCommand, type AdjustDecision, type AdjustErrorCode } from '../../src/domain/adjustment.js';
import { decide, stateOf } from '../../src/domain/decider.js';
import { validateEvent, type AdjustmentReason, type MiningEvent } from '../../src/domain/events.js';
import { MAX_UNITS } from '../../src/domain/money.js';
import { deadlineOf } from '../../src/domain/session.js';
import { ACCOUNT, beats, heartbeat, iso, ms, started, stopped, type Moment } from './fixtures.js';
import { flatten, type History } from './given.js';

const ADJ = '0190f0e0-0000-7000-8000-00000000a001';
const ADJ2 = '0190f0e0-0000-7000-8000-00000000a002';

function adjusted(at: Moment, amountUnits: bigint, options: { id?: string; reason?: AdjustmentReason; note?: string; reference?: string } = {}): MiningEvent {
  return {
    type: 'BalanceAdjusted',
    data: {
      adjustmentId: options.id ?? ADJ, accountId: ACCOUNT, at: iso(at), amountUnits: amountUnits.toString(),
      reason: options.reason ?? 'correction', note: options.note ?? 'offline over-accrual',
      ...(options.reference === undefined ? {} : { reference: options.reference }),
    },
  };
}

function adjust(now: Moment, amountUnits: bigint, options: { id?: string; reason?: AdjustmentReason; note?: string; reference?: string } = {}): AdjustCommand {
  return {
    type: 'adjust', accountId: ACCOUNT, now: ms(now), adjustmentId: options.id ?? ADJ, amountUnits,
    reason: options.reason ?? 'correction', note: options.note ?? 'offline over-accrual', reference: options.reference,
  };
}

interface AdjustOutcome {
  decision: AdjustDecision;
  stream: MiningEvent[];
  then(expected: MiningEvent[], created: boolean): AdjustOutcome;
  thenFails(code: AdjustErrorCode): AdjustOutcome;
}

function given(t: Test, ...history: History[]): { when(command: AdjustCommand): AdjustOutcome } {
  const events = flatten(history);
  return {
    when(command) {
      const decision = decideAdjust(adjustmentStateOf(events), command);
      for (const event of decision.events) validateEvent(event.type, event.data, 'decided event');
      const outcome: AdjustOutcome = {
        decision,
        stream: [...events, ...decision.events],
        then(expected, created) {
          t.same(decision.events, expected, 'records the expected events');
          t.equal(decision.error, undefined, 'succeeds');
          t.equal(decision.created, created, created ? 'a new adjustment' : 'answered as the original');
          return outcome;
        },
        thenFails(code) {
          t.equal(decision.error, code, `fails with ${code}`);
          t.same(decision.events, [], 'records nothing');
          return outcome;
        },
      };
      return outcome;
    },
  };
}

// One hour of heartbeats at 0.25 tokens/h: 25,000,000 units.
const hourSession = [started('08:00'), beats('08:00', '09:00'), stopped('09:00', 'user')];

t.test('an adjustment on an account with earnings is recorded at the server time, and the balance includes it', async (t) => {
  const outcome = given(t, hourSession).when(adjust('10:00', -5_000_000n)).then([adjusted('10:00', -5_000_000n)], true);
  t.equal(outcome.decision.balanceUnits, 20_000_000n, 'balance after = earnings + adjustment');
  t.equal(accrue(outcome.stream).balanceUnits, 20_000_000n, 'a replay agrees');
});

t.test('a positive adjustment on an account without events (a migration) is recorded', async (t) => {
  const outcome = given(t).when(adjust('10:00', 764_000_000n, { reason: 'migration', reference: 'legacy row 17' }))
    .then([adjusted('10:00', 764_000_000n, { reason: 'migration', reference: 'legacy row 17' })], true);
  t.equal(outcome.decision.balanceUnits, 764_000_000n);
});

t.test('the same adjustmentId with the same content: nothing recorded, answered as the original', async (t) => {
  const original = adjusted('10:00', -5_000_000n, { reference: 'INC-1' });
  const outcome = given(t, hourSession, original).when(adjust('11:00', -5_000_000n, { reference: 'INC-1' })).then([], false);
  t.same(outcome.decision.adjustment, original.data, 'the original, with its own time');
  t.equal(outcome.decision.balanceUnits, 20_000_000n);
});

t.test('the same adjustmentId with different content: ADJUSTMENT_CONFLICT', async (t) => {
  const original = adjusted('10:00', -5_000_000n, { reference: 'INC-1' });
  given(t, hourSession, original).when(adjust('11:00', -5_000_001n, { reference: 'INC-1' })).thenFails('ADJUSTMENT_CONFLICT');
  given(t, hourSession, original).when(adjust('11:00', -5_000_000n, { reference: 'INC-1', reason: 'goodwill' })).thenFails('ADJUSTMENT_CONFLICT');
  given(t, hourSession, original).when(adjust('11:00', -5_000_000n, { reference: 'INC-1', note: 'other' })).thenFails('ADJUSTMENT_CONFLICT');
  given(t, hourSession, original).when(adjust('11:00', -5_000_000n)).thenFails('ADJUSTMENT_CONFLICT');
  given(t, hourSession, original).when(adjust('11:00', -5_000_000n, { reference: 'INC-2' })).thenFails('ADJUSTMENT_CONFLICT');
});

t.test('a result below zero: INSUFFICIENT_BALANCE; exactly zero is allowed', async (t) => {
  given(t, hourSession).when(adjust('10:00', -25_000_001n)).thenFails('INSUFFICIENT_BALANCE');
  given(t).when(adjust('10:00', -1n)).thenFails('INSUFFICIENT_BALANCE');
  const outcome = given(t, hourSession).when(adjust('10:00', -25_000_000n)).then([adjusted('10:00', -25_000_000n)], true);
  t.equal(outcome.decision.balanceUnits, 0n);
});

t.test('the balance checked includes the active session, as GET /v1/accounts/:id shows it', async (t) => {
  // Active since 08:00 with heartbeats up to 08:30: 30 minutes credited = 12,500,000 units so far.
  const active = [started('08:00'), beats('08:00', '08:30')];
  given(t, active).when(adjust('08:31', -12_500_000n)).then([adjusted('08:31', -12_500_000n)], true);
  given(t, active).when(adjust('08:31', -12_500_001n)).thenFails('INSUFFICIENT_BALANCE');
});

t.test('earlier adjustments count toward the balance checked', async (t) => {
  given(t, hourSession, adjusted('10:00', -20_000_000n)).when(adjust('11:00', -5_000_001n, { id: ADJ2 })).thenFails('INSUFFICIENT_BALANCE');
  given(t, hourSession, adjusted('10:00', -20_000_000n)).when(adjust('11:00', -5_000_000n, { id: ADJ2 }))
    .then([adjusted('11:00', -5_000_000n, { id: ADJ2 })], true);
});

t.test('|amount| at most MAX_UNITS; zero is never an adjustment', async (t) => {
  given(t).when(adjust('10:00', 0n)).thenFails('INVALID_AMOUNT');
  given(t).when(adjust('10:00', MAX_UNITS + 1n)).thenFails('INVALID_AMOUNT');
  given(t, hourSession).when(adjust('10:00', -(MAX_UNITS + 1n))).thenFails('INVALID_AMOUNT');
  given(t).when(adjust('10:00', MAX_UNITS)).then([adjusted('10:00', MAX_UNITS)], true);
  t.throws(() => validateEvent('BalanceAdjusted', adjusted('10:00', 0n).data), /amountUnits/, 'a zero amount never passes the event schema');
  t.throws(() => validateEvent('BalanceAdjusted', { ...adjusted('10:00', 1n).data, amountUnits: '-0' }), /amountUnits/);
  t.throws(() => validateEvent('BalanceAdjusted', adjusted('10:00', MAX_UNITS + 1n).data), /beyond/);
});

t.test('a balance that would exceed MAX_UNITS is refused (no store could hold it)', async (t) => {
  given(t, adjusted('09:00', MAX_UNITS)).when(adjust('10:00', 1n, { id: ADJ2 })).thenFails('BALANCE_TOO_LARGE');
});

t.test('time never goes backwards: a clock behind the last event uses its time', async (t) => {
  given(t, hourSession).when(adjust('08:30', 1n)).then([adjusted('09:00', 1n)], true);
});

t.test('an adjustment changes no session, its credited time, or the active deadline', async (t) => {
  const active = [started('08:00'), beats('08:00', '08:30')];
  const before = stateOf(flatten(active));
  const after = stateOf([adjusted('08:31', 1n)], before);
  t.equal(deadlineOf(after.active!), deadlineOf(before.active!), 'same deadline');
  t.equal(after.active!.creditedMs, before.active!.creditedMs, 'same credited time');
  // The session goes on as if nothing happened: a heartbeat at 08:34 is on time.
  const decision = decide(after, heartbeat('08:34'));
  t.equal(decision.recorded, true);
  const replayed = accrue([...flatten(active), adjusted('08:31', 1n), ...decision.events], { intervals: true });
  t.equal(replayed.creditedMs, 34 * 60_000, 'credited as without the adjustment');
  t.equal(replayed.balanceUnits, (34n * 60_000n * 25_000_000n) / 3_600_000n + 1n);
});

t.test('the incident: the 7.64 over-accrual corrected with a correction adjustment', async (t) => {
  // The old system's counter credited 7.64 tokens for offline time; migrated as it stood, then corrected.
  const migrated = adjusted('08:00', 788_000_000n, { id: ADJ, reason: 'migration', note: 'opening balance' });
  const outcome = given(t, migrated).when(adjust('10:00', -764_000_000n, { id: ADJ2, note: 'offline 12h44m credited by the old job' }))
    .then([adjusted('10:00', -764_000_000n, { id: ADJ2, note: 'offline 12h44m credited by the old job' })], true);
  t.equal(outcome.decision.balanceUnits, 24_000_000n, '0.24 tokens remain');
});
