// The sweeper's deadline index: per account with an active session, only what the domain needs to
// compute the deadline (start, T, M, last presence), kept in typed arrays under an interned slot.
// Each event goes through the domain's stepSession (start mapping, which session, event time) and
// deadlines come from deadlineOf; nothing here re-states a rule. The index is a hint: the decider, through the command handler, decides.
import type { MiningEvent } from '../domain/events.js';
import { deadlineOf, openSession, type SessionAccrual } from '../domain/session.js';
import { eventTimeOf, sessionIdOf, stepSession } from '../domain/session-step.js';
import { createDeadlineHeap } from './deadline-heap.js';
import { stableHash } from './shard.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Where a slot is: free, waiting in the heap, or taken out by a sweep pass (with or without its session). */
const FREE = 0;
const HEAPED = 1;
const TAKEN = 2;
/** Taken by a sweep, and meanwhile the session ended: the slot is freed when the sweep hands it back. */
const TAKEN_ENDED = 3;

export interface SessionIndex {
  /** Accounts with an active session. */
  readonly size: number;
  /** Sessions taken out by a sweep pass, not yet handed back, and not known to have ended. */
  readonly taken: number;
  /** Folds one event of `stream` (a `mining-<accountId>` stream) into the index. */
  apply(stream: string, event: MiningEvent): void;
  /** Seeds the index with an active session (e.g. from the read model); later events refine it. */
  load(stream: string, session: SessionAccrual): void;
  /** The stored deadline of a stream's active session, if any. */
  deadlineOf(stream: string): number | undefined;
  /** Takes out the session with the earliest deadline strictly before `bound`; -1 when none. */
  takeDue(bound: number): number;
  streamOf(slot: number): string;
  /** Returns a taken slot: back into the heap, or freed when its session ended meanwhile. */
  handBack(slot: number): void;
  /**
   * Active sessions in the heap whose deadline is before `now`. Only entries keyed below `now` are
   * visited: the overdue ones and the few whose lazy key has not been repaired yet; never a scan.
   */
  countOverdue(now: number): number;
}

/** A 32-bit tag of a session id: enough to ignore a heartbeat or stop of another session. */
const tagOf = (sessionId: string): number => stableHash(sessionId);

export function createSessionIndex(initialCapacity = 1024): SessionIndex {
  let capacity = Math.max(16, initialCapacity);
  let startedAt = new Float64Array(capacity);
  let timeoutMs = new Float64Array(capacity);
  let maxMs = new Float64Array(capacity);
  let lastPresenceAt = new Float64Array(capacity);
  let tags = new Uint32Array(capacity);
  let states = new Uint8Array(capacity);
  const streams: (string | undefined)[] = [];
  const slotsByStream = new Map<string, number>();
  const freeSlots: number[] = [];
  const heap = createDeadlineHeap(capacity);
  let taken = 0;
  // One reusable view handed to the domain functions; they only read it.
  const view: Mutable<SessionAccrual> = { ...openSession({ sessionId: '', accountId: '', at: 0, rateUnitsPerHour: 0n, heartbeatTimeoutMs: 1, maxSessionMs: 0 }) };

  function grow(): void {
    capacity = Math.ceil(capacity * 1.5);
    const widen = <T extends Float64Array | Uint32Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    startedAt = widen(startedAt, (n) => new Float64Array(n));
    timeoutMs = widen(timeoutMs, (n) => new Float64Array(n));
    maxMs = widen(maxMs, (n) => new Float64Array(n));
    lastPresenceAt = widen(lastPresenceAt, (n) => new Float64Array(n));
    tags = widen(tags, (n) => new Uint32Array(n));
    states = widen(states, (n) => new Uint8Array(n));
    heap.reserve(capacity);
  }

  function allocate(stream: string): number {
    let slot = freeSlots.pop();
    if (slot === undefined) {
      slot = streams.length;
      if (slot >= capacity) grow();
      streams.push(stream);
    } else {
      streams[slot] = stream;
    }
    slotsByStream.set(stream, slot);
    return slot;
  }

  function viewOf(slot: number, sessionId = ''): SessionAccrual {
    view.sessionId = sessionId;
    view.startedAt = startedAt[slot]!;
    view.heartbeatTimeoutMs = timeoutMs[slot]!;
    view.maxSessionMs = maxMs[slot]!;
    view.lastPresenceAt = lastPresenceAt[slot]!;
    return view;
  }

  /** Computed when asked rather than stored: 8 bytes less per session. */
  function deadlineAt(slot: number): number {
    return deadlineOf(viewOf(slot));
  }

  /** Files a slot's new deadline; the heap key only has to be lowered, never raised (lazy keys). */
  function setDeadline(slot: number, deadline: number): void {
    if (states[slot] === HEAPED) heap.lower(slot, deadline);
    else if (states[slot] === FREE) {
      states[slot] = HEAPED;
      heap.insert(slot, deadline);
    }
  }

  function open(stream: string, session: SessionAccrual, tag: number): void {
    const slot = slotsByStream.get(stream) ?? allocate(stream);
    startedAt[slot] = session.startedAt;
    timeoutMs[slot] = session.heartbeatTimeoutMs;
    maxMs[slot] = session.maxSessionMs;
    lastPresenceAt[slot] = session.lastPresenceAt;
    tags[slot] = tag;
    setDeadline(slot, deadlineOf(session));
  }

  function end(stream: string, slot: number): void {
    slotsByStream.delete(stream);
    if (states[slot] === HEAPED) {
      heap.remove(slot);
      release(slot);
    } else if (states[slot] === TAKEN) {
      states[slot] = TAKEN_ENDED;
      taken--;
    }
  }

  function release(slot: number): void {
    states[slot] = FREE;
    streams[slot] = undefined;
    freeSlots.push(slot);
  }

  return {
    get size() {
      return slotsByStream.size;
    },
    get taken() {
      return taken;
    },
    apply(stream, event) {
      const named = sessionIdOf(event);
      // An adjustment changes no session and no deadline (SPEC §10).
      if (named === null) return;
      const slot = slotsByStream.get(stream);
      // The tag stands for the active session's id: when it matches, the view carries the event's id,
      // so the domain's "belongs to the active session" rule sees the session the tag recorded.
      const active = slot !== undefined && tags[slot] === tagOf(named) ? viewOf(slot, named) : null;
      const step = stepSession(active, event, eventTimeOf(event));
      switch (step.kind) {
        case 'opened':
          open(stream, step.session, tagOf(named));
          return;
        case 'heartbeat':
          lastPresenceAt[slot!] = step.session.lastPresenceAt;
          setDeadline(slot!, deadlineOf(step.session));
          return;
        case 'closed':
          end(stream, slot!);
          return;
        case 'ignored':
        case 'untouched':
          return;
      }
    },
    load(stream, session) {
      open(stream, session, tagOf(session.sessionId));
    },
    deadlineOf(stream) {
      const slot = slotsByStream.get(stream);
      return slot === undefined ? undefined : deadlineAt(slot);
    },
    takeDue(bound) {
      for (;;) {
        const slot = heap.topSlot();
        if (slot < 0 || !(heap.topKey() < bound)) return -1;
        const deadline = deadlineAt(slot);
        if (heap.topKey() < deadline) {
          heap.raiseTop(deadline); // a stale key: heartbeats moved this deadline on
          continue;
        }
        heap.pop();
        states[slot] = TAKEN;
        taken++;
        return slot;
      }
    },
    streamOf(slot) {
      const stream = streams[slot];
      if (stream === undefined) throw new Error(`slot ${slot} holds no session`);
      return stream;
    },
    handBack(slot) {
      if (states[slot] === TAKEN_ENDED) {
        release(slot);
        return;
      }
      if (states[slot] !== TAKEN) throw new Error(`slot ${slot} was not taken`);
      taken--;
      states[slot] = HEAPED;
      heap.insert(slot, deadlineAt(slot));
    },
    countOverdue(now) {
      let overdue = 0;
      heap.forEachBelow(now, (slot) => {
        if (deadlineAt(slot) < now) overdue++;
      });
      return overdue;
    },
  };
}
