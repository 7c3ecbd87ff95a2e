// Properties of the decider over random schedules (clock jitter and backwards jumps included):
// offline time never becomes balance, whatever order commands arrive in.
import fc from 'fast-check';
import t from 'tap';
import { accrue, type AccountAccrual } from '../../src/domain/accrual.js';
import { stateOf } from '../../src/domain/decider.js';
import type { MiningEvent } from '../../src/domain/events.js';
import { sessionEarnedUnits } from '../../src/domain/session.js';
import { bindingReason, earned, gapsOf, sessionsOf } from './oracle.js';
import { atOf, run, scheduleArb } from './schedule.js';

const runs = { numRuns: 300 };

t.test('time in the stream never goes backwards, whatever the wall clock does', async (t) => {
  fc.assert(
    fc.property(scheduleArb(), ({ settings, steps }) => {
      const times = run(settings, steps).stream.map(atOf);
      return times.every((at, i) => i === 0 || at >= times[i - 1]!);
    }),
    runs,
  );
  t.pass('every event is at or after the one before it');
});

t.test('at most one active session; heartbeats and stops belong to it', async (t) => {
  fc.assert(
    fc.property(scheduleArb(), ({ settings, steps }) => {
      let open: string | null = null;
      for (const event of run(settings, steps).stream) {
        if (event.type === 'MiningStarted') {
          if (open !== null) return false;
          open = event.data.sessionId;
        } else if (event.type !== 'BalanceAdjusted') {
          if (event.data.sessionId !== open) return false;
          if (event.type === 'MiningStopped') open = null;
        }
      }
      return true;
    }),
    runs,
  );
  t.pass('never two open sessions, never an event for a session that is not open');
});

t.test('every timeout or max_duration stop is at the deadline, with the binding bound as its reason', async (t) => {
  fc.assert(
    fc.property(scheduleArb(), ({ settings, steps }) => {
      for (const session of sessionsOf(run(settings, steps).stream)) {
        if (!session.stop || session.stop.reason === 'user') continue;
        if (session.stop.at !== session.deadline) return false;
        if (session.stop.reason !== bindingReason(session)) return false;
      }
      return true;
    }),
    runs,
  );
  t.pass('stops of unattended sessions are at min(lastPresence + T, start + M)');
});

t.test('credited time: only in-timeout gaps, clipped to start + M, never more than the wall time', async (t) => {
  fc.assert(
    fc.property(scheduleArb(), ({ settings, steps }) => {
      const { stream } = run(settings, steps);
      const replayed = accrue(stream).sessions;
      return sessionsOf(stream).every((session, i) => {
        const credited = replayed[i]!.session.creditedMs;
        const gaps = gapsOf(session);
        const end = session.stop ? session.stop.at : Math.max(...session.presence);
        return (
          credited === gaps.credited &&
          credited <= gaps.inTimeout &&
          gaps.largestCredited <= session.timeout &&
          credited <= end - session.startedAt &&
          (session.maxMs === 0 || credited <= session.maxMs)
        );
      });
    }),
    runs,
  );
  t.pass('the fold credits exactly what the rules allow, and never offline time');
});

t.test('balance is the sum of session earnings, each rounded down once', async (t) => {
  fc.assert(
    fc.property(scheduleArb(), ({ settings, steps }) => {
      const { stream } = run(settings, steps);
      const ledger = accrue(stream);
      const oracle = sessionsOf(stream).reduce((sum, s) => sum + earned(s), 0n);
      const folded = ledger.sessions.reduce((sum, s) => sum + sessionEarnedUnits(s.session), 0n);
      return ledger.balanceUnits === oracle && folded === oracle;
    }),
    runs,
  );
  t.pass('balanceUnits = Σ floor(creditedMs × R / 3,600,000)');
});

t.test('replay is deterministic and agrees with the decider about the session', async (t) => {
  fc.assert(
    fc.property(scheduleArb(), ({ settings, steps }) => {
      const { stream, state } = run(settings, steps);
      const first = accrue(stream, { intervals: true });
      const second = accrue(structuredClone(stream), { intervals: true });
      t.same(second, first);
      t.same(first.active?.session ?? null, state.active);
      const lastStopped = first.sessions.filter((s) => s.session.stoppedAt !== null).at(-1)?.session ?? null;
      t.same(lastStopped, state.lastStopped);
      t.same(stateOf(stream), state, 'folding the stream again gives the decision state');
    }),
    { numRuns: 100 },
  );
});

t.test('the active session can be rebuilt from the stream read back to its start', async (t) => {
  // This is what lets the command handler read backwards only to the session boundary.
  fc.assert(
    fc.property(scheduleArb(), ({ settings, steps }) => {
      const { stream, state } = run(settings, steps);
      const boundary = stream.findLastIndex((e: MiningEvent) => e.type === 'MiningStarted' || e.type === 'MiningStopped');
      const suffix = boundary < 0 ? stream : stream[boundary]!.type === 'MiningStopped' ? stream.slice(-1) : stream.slice(boundary);
      const partial = stateOf(suffix);
      return JSON.stringify([partial.active, partial.lastEventAt], (_, v) => (typeof v === 'bigint' ? `${v}n` : v)) ===
        JSON.stringify([state.active, state.lastEventAt], (_, v) => (typeof v === 'bigint' ? `${v}n` : v));
    }),
    runs,
  );
  t.pass('active session and clock floor from the suffix equal those from the whole stream');
});

t.test('decisions: errors and what they record', async (t) => {
  fc.assert(
    fc.property(scheduleArb(), ({ settings, steps }) => {
      return run(settings, steps).decisions.every(({ before, decision }) => {
        switch (decision.error) {
          case 'NOT_MINING':
            return before.active === null && decision.events.length === 0;
          case 'SESSION_MISMATCH':
            return before.active !== null && decision.events.length === 0;
          case 'SESSION_EXPIRED': {
            const [stop, ...rest] = decision.events;
            return rest.length === 0 && stop?.type === 'MiningStopped' && stop.data.reason !== 'user';
          }
          default:
            return true;
        }
      });
    }),
    runs,
  );
  t.pass('NOT_MINING and SESSION_MISMATCH write nothing; SESSION_EXPIRED writes exactly the stop');
});

t.test('with or without a sweeper: the same sessions, the same credited time, the same balance', async (t) => {
  // With a clock that only moves forward (a clock jumping back before an unswept deadline could
  // still reach the session, which a sweeper would have closed).
  fc.assert(
    fc.property(scheduleArb(false), ({ settings, steps }) => {
      const swept = accrue(run(settings, steps).stream);
      const unswept = accrue(run(settings, steps.map((s) => (s.kind === 'expire' ? { ...s, kind: 'wait' as const } : s))).stream);
      const view = (a: AccountAccrual) => a.sessions.map((s) => [s.session.sessionId, s.session.creditedMs]);
      if (JSON.stringify(view(swept)) !== JSON.stringify(view(unswept))) return false;
      const stops = (a: AccountAccrual) => new Map(a.sessions.map((s) => [s.session.sessionId, s.session.stoppedAt]));
      const unsweptStops = stops(unswept);
      for (const [id, at] of stops(swept)) {
        const other = unsweptStops.get(id);
        if (at !== null && other !== null && other !== at) return false;
      }
      return swept.balanceUnits === unswept.balanceUnits;
    }),
    runs,
  );
  t.pass('a sweeper only records earlier what the next command would record anyway');
});
