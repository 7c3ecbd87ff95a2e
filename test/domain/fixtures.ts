// Vocabulary for domain specifications: times of day, events and commands that read like SPEC §2.
import type { MiningCommand, SessionSettings } from '../../src/domain/decider.js';
import type { MiningEvent, StopReason } from '../../src/domain/events.js';
import { toIso } from '../../src/domain/time.js';

/** The day every specification happens on (a day of no particular meaning). */
export const DAY = Date.UTC(2026, 2, 1);
export const ACCOUNT = 'alice';
export const SESSION = '0190f0e0-0000-7000-8000-000000000001';
export const OTHER_SESSION = '0190f0e0-0000-7000-8000-000000000002';
export const THIRD_SESSION = '0190f0e0-0000-7000-8000-000000000003';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
/** SPEC defaults: T = 300000 ms, R = 0.25 tokens per hour, M = 0 (unlimited). */
export const T = 5 * MINUTE;
export const R_UNITS = 25_000_000n;
export const DEFAULTS: SessionSettings = { rateUnitsPerHour: R_UNITS, heartbeatTimeoutMs: T, maxSessionMs: 0 };

/** A moment: "08:00", "08:00:30", "08:00:30.250" on DAY (a day later with a "+1 " prefix), or epoch ms. */
export type Moment = string | number;

export function ms(moment: Moment): number {
  if (typeof moment === 'number') return moment;
  const match = /^(\+(\d+) )?(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{3}))?)?$/.exec(moment);
  if (!match) throw new Error(`not a moment: ${moment}`);
  const [, , days = '0', h, m, s = '0', milli = '0'] = match;
  return DAY + Number(days) * 24 * HOUR + Number(h) * HOUR + Number(m) * MINUTE + Number(s) * SECOND + Number(milli);
}

export const iso = (moment: Moment): string => toIso(ms(moment));

// --- events --------------------------------------------------------------------------------------

export function started(at: Moment, settings: Partial<SessionSettings> = {}, sessionId = SESSION): MiningEvent {
  const s = { ...DEFAULTS, ...settings };
  return {
    type: 'MiningStarted',
    data: {
      sessionId, accountId: ACCOUNT, at: iso(at),
      rateUnitsPerHour: s.rateUnitsPerHour.toString(), heartbeatTimeoutMs: s.heartbeatTimeoutMs, maxSessionMs: s.maxSessionMs,
    },
  };
}

export function beat(at: Moment, sessionId = SESSION): MiningEvent {
  return { type: 'Heartbeat', data: { sessionId, at: iso(at) } };
}

export function stopped(at: Moment, reason: StopReason, sessionId = SESSION): MiningEvent {
  return { type: 'MiningStopped', data: { sessionId, at: iso(at), reason } };
}

/** Heartbeats every `every` ms after `from` up to and including `to`. */
export function beats(from: Moment, to: Moment, every = 30 * SECOND, sessionId = SESSION): MiningEvent[] {
  const events: MiningEvent[] = [];
  for (let at = ms(from) + every; at <= ms(to); at += every) events.push(beat(at, sessionId));
  return events;
}

// --- commands ------------------------------------------------------------------------------------

export function start(now: Moment, settings: Partial<SessionSettings> = {}, sessionId = OTHER_SESSION): MiningCommand {
  return { type: 'start', accountId: ACCOUNT, now: ms(now), sessionId, ...DEFAULTS, ...settings };
}

export function heartbeat(now: Moment, options: { sessionId?: string; minHeartbeatIntervalMs?: number } = {}): MiningCommand {
  return { type: 'heartbeat', now: ms(now), sessionId: options.sessionId, minHeartbeatIntervalMs: options.minHeartbeatIntervalMs ?? 0 };
}

export function stop(now: Moment): MiningCommand {
  return { type: 'stop', now: ms(now) };
}

export function expire(now: Moment, graceMs = 2 * SECOND): MiningCommand {
  return { type: 'expire', now: ms(now), graceMs };
}
