// The decider: initial state, evolve, decide. One pure function of state, command and time,
// shared by the API and the sweeper. Time and ids arrive as arguments.
import type { MiningEvent, StopReason } from './events.js';
import {
  closeSession, deadlineOf, expiryReasonOf, isExpired, openSession, recordHeartbeat, type SessionAccrual,
} from './session.js';
import { parseIso, toIso } from './time.js';

export interface MiningState {
  /** Time of the stream's last event: a command's clock never reads earlier than this. */
  readonly lastEventAt: number | null;
  readonly active: SessionAccrual | null;
  /** The most recently ended session, so a stop can answer with it. */
  readonly lastStopped: SessionAccrual | null;
}

export const initialState: MiningState = { lastEventAt: null, active: null, lastStopped: null };

export interface SessionSettings {
  rateUnitsPerHour: bigint;
  heartbeatTimeoutMs: number;
  maxSessionMs: number;
}

export type MiningCommand =
  | ({ type: 'start'; accountId: string; now: number; sessionId: string } & SessionSettings)
  | { type: 'heartbeat'; now: number; sessionId?: string | undefined; minHeartbeatIntervalMs: number }
  | { type: 'stop'; now: number }
  | { type: 'expire'; now: number; graceMs: number };

export type DomainErrorCode = 'NOT_MINING' | 'SESSION_EXPIRED' | 'SESSION_MISMATCH';

export interface Decision {
  /** Events to record, even when the command fails (an expired heartbeat records the stop first). */
  readonly events: MiningEvent[];
  readonly error?: DomainErrorCode;
  /** start: a new session was opened. */
  readonly created?: boolean;
  /** heartbeat: it was written (false when coalesced under MIN_HEARTBEAT_INTERVAL_MS). */
  readonly recorded?: boolean;
  /** The command's clock was behind the stream's last event, so the event's time was used. */
  readonly clamped?: boolean;
}

function eventTime(event: MiningEvent): number {
  const at = parseIso(event.data.at);
  if (at === undefined) throw new Error(`event ${event.type} has an invalid time "${event.data.at}"`);
  return at;
}

export function evolve(state: MiningState, event: MiningEvent): MiningState {
  const at = eventTime(event);
  const lastEventAt = state.lastEventAt === null ? at : Math.max(state.lastEventAt, at);
  switch (event.type) {
    case 'MiningStarted': {
      const { data } = event;
      const active = openSession({
        sessionId: data.sessionId,
        accountId: data.accountId,
        at,
        rateUnitsPerHour: BigInt(data.rateUnitsPerHour),
        heartbeatTimeoutMs: data.heartbeatTimeoutMs,
        maxSessionMs: data.maxSessionMs,
      });
      return { ...state, lastEventAt, active };
    }
    case 'Heartbeat': {
      if (!state.active || state.active.sessionId !== event.data.sessionId) return { ...state, lastEventAt };
      return { ...state, lastEventAt, active: recordHeartbeat(state.active, at).session };
    }
    case 'MiningStopped': {
      if (!state.active || state.active.sessionId !== event.data.sessionId) return { ...state, lastEventAt };
      return { lastEventAt, active: null, lastStopped: closeSession(state.active, at, event.data.reason).session };
    }
    case 'BalanceAdjusted':
      // Never changes a session, its credited time or its deadline (SPEC §10).
      return { ...state, lastEventAt };
  }
}

function stopAtDeadline(session: SessionAccrual, isoOf: (ms: number) => string): MiningEvent {
  const reason: StopReason = expiryReasonOf(session);
  return { type: 'MiningStopped', data: { sessionId: session.sessionId, at: isoOf(deadlineOf(session)), reason } };
}

/**
 * `isoOf` formats event times; the shell may pass a faster one that gives the same text as toIso
 * (src/commands/iso-text.ts), so the decision stays a pure function of state, command and time.
 */
export function decide(state: MiningState, command: MiningCommand, isoOf: (ms: number) => string = toIso): Decision {
  // Within a stream time never goes backwards: a clock behind the last event uses the event's time.
  if (state.lastEventAt === null || command.now >= state.lastEventAt) return decideAt(state, command, command.now, isoOf);
  return { ...decideAt(state, command, state.lastEventAt, isoOf), clamped: true };
}

function decideAt(state: MiningState, command: MiningCommand, now: number, isoOf: (ms: number) => string): Decision {
  const active = state.active;
  switch (command.type) {
    case 'start': {
      const started: MiningEvent = {
        type: 'MiningStarted',
        data: {
          sessionId: command.sessionId,
          accountId: command.accountId,
          at: isoOf(now),
          rateUnitsPerHour: command.rateUnitsPerHour.toString(),
          heartbeatTimeoutMs: command.heartbeatTimeoutMs,
          maxSessionMs: command.maxSessionMs,
        },
      };
      if (!active) return { events: [started], created: true };
      if (!isExpired(active, now)) return { events: [], created: false };
      return { events: [stopAtDeadline(active, isoOf), started], created: true };
    }
    case 'heartbeat': {
      if (!active) return { events: [], error: 'NOT_MINING' };
      if (isExpired(active, now)) return { events: [stopAtDeadline(active, isoOf)], error: 'SESSION_EXPIRED' };
      if (command.sessionId !== undefined && command.sessionId !== active.sessionId) {
        return { events: [], error: 'SESSION_MISMATCH' };
      }
      if (now - active.lastPresenceAt < command.minHeartbeatIntervalMs) return { events: [], recorded: false };
      return { events: [{ type: 'Heartbeat', data: { sessionId: active.sessionId, at: isoOf(now) } }], recorded: true };
    }
    case 'stop': {
      if (!active) return { events: [], error: 'NOT_MINING' };
      if (isExpired(active, now)) return { events: [stopAtDeadline(active, isoOf)] };
      return { events: [{ type: 'MiningStopped', data: { sessionId: active.sessionId, at: isoOf(now), reason: 'user' } }] };
    }
    case 'expire': {
      if (!active || !(now > deadlineOf(active) + command.graceMs)) return { events: [] };
      return { events: [stopAtDeadline(active, isoOf)] };
    }
  }
}

/** Folds a sequence of events into decision state. */
export function stateOf(events: Iterable<MiningEvent>, from: MiningState = initialState): MiningState {
  let state = from;
  for (const event of events) state = evolve(state, event);
  return state;
}
