// Domain values as the wire shows them: ISO times, 8-decimal token strings, integer-string units.
// The rules themselves (deadline, earnings) come from src/domain; nothing is re-derived here.
import { formatTokens } from '../domain/money.js';
import { deadlineOf, sessionEarnedUnits, type SessionAccrual } from '../domain/session.js';
import { isoFormatter } from '../commands/iso-text.js';
import type { SessionBody } from './schemas.js';

// Session times of one request are mostly within the same few seconds as the last request's.
const toIso = isoFormatter();

export function sessionView(session: SessionAccrual, heartbeatIntervalMs: number): SessionBody {
  const earnedUnits = sessionEarnedUnits(session);
  const stopped = session.stoppedAt !== null;
  return {
    sessionId: session.sessionId,
    startedAt: toIso(session.startedAt),
    lastHeartbeatAt: session.lastHeartbeatAt === null ? null : toIso(session.lastHeartbeatAt),
    deadline: stopped ? null : toIso(deadlineOf(session)),
    stoppedAt: stopped ? toIso(session.stoppedAt as number) : null,
    reason: session.reason,
    ratePerHour: formatTokens(session.rateUnitsPerHour),
    heartbeatIntervalMs,
    heartbeatTimeoutMs: session.heartbeatTimeoutMs,
    maxSessionMs: session.maxSessionMs,
    creditedMs: session.creditedMs,
    earned: formatTokens(earnedUnits),
    earnedUnits: earnedUnits.toString(),
  };
}
