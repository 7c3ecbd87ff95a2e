// An independent, deliberately naive reading of SPEC §2 over a stream: presence points, gaps,
// deadlines. Property tests compare the real fold against it.
import type { MiningEvent, StopReason } from '../../src/domain/events.js';
import { atOf } from './schedule.js';

export interface OracleSession {
  sessionId: string;
  startedAt: number;
  timeout: number;
  maxMs: number;
  rate: bigint;
  /** The start, every heartbeat, and the stop when the user stopped. */
  presence: number[];
  stop: { at: number; reason: StopReason } | null;
  /** The deadline just before the stop was recorded (or now, for an active session). */
  deadline: number;
}

export function sessionsOf(stream: MiningEvent[]): OracleSession[] {
  const sessions: OracleSession[] = [];
  let open: OracleSession | null = null;
  for (const event of stream) {
    const at = atOf(event);
    if (event.type === 'MiningStarted') {
      const d = event.data;
      open = {
        sessionId: d.sessionId, startedAt: at, timeout: d.heartbeatTimeoutMs, maxMs: d.maxSessionMs,
        rate: BigInt(d.rateUnitsPerHour), presence: [at], stop: null, deadline: 0,
      };
      open.deadline = deadline(open);
      sessions.push(open);
    } else if (open && event.type !== 'BalanceAdjusted' && event.data.sessionId === open.sessionId) {
      if (event.type === 'Heartbeat') open.presence.push(at);
      else {
        if (event.data.reason === 'user') open.presence.push(at);
        open.stop = { at, reason: event.data.reason };
        open = null;
        continue;
      }
      open.deadline = deadline(open);
    }
  }
  return sessions;
}

function deadline(session: OracleSession): number {
  const last = Math.max(...session.presence);
  const byTimeout = last + session.timeout;
  return session.maxMs > 0 ? Math.min(byTimeout, session.startedAt + session.maxMs) : byTimeout;
}

/** The bound that ends an unattended session; when both bind at once, max_duration (the documented tie rule). */
export function bindingReason(session: OracleSession): StopReason {
  const last = Math.max(...session.presence);
  return session.maxMs > 0 && session.startedAt + session.maxMs <= last + session.timeout ? 'max_duration' : 'timeout';
}

export interface Gaps {
  /** Sum of gaps between consecutive presence points that are <= T (unclipped). */
  inTimeout: number;
  /** Sum of those gaps, clipped to start + M. */
  credited: number;
  /** Largest gap that contributed anything to credited time. */
  largestCredited: number;
}

export function gapsOf(session: OracleSession): Gaps {
  const end = session.maxMs > 0 ? session.startedAt + session.maxMs : Infinity;
  const gaps: Gaps = { inTimeout: 0, credited: 0, largestCredited: 0 };
  for (let i = 1; i < session.presence.length; i++) {
    const from = session.presence[i - 1]!;
    const to = session.presence[i]!;
    const gap = to - from;
    if (gap > session.timeout) continue;
    gaps.inTimeout += gap;
    const credit = Math.max(0, Math.min(to, end) - from);
    gaps.credited += credit;
    if (credit > 0) gaps.largestCredited = Math.max(gaps.largestCredited, gap);
  }
  return gaps;
}

export function earned(session: OracleSession): bigint {
  return (BigInt(gapsOf(session).credited) * session.rate) / 3_600_000n;
}
