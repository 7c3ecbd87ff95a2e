// Wakes subscriptions when something was committed: at once for our own writer's answers, and for
// other processes' commits by polling SQLite's data_version, only while someone is waiting. And the
// committed log: what our own writer just committed, handed to subscribers from memory.
import type { EventCodec, EventToAppend, RecordedEvent } from '../port.js';
import type { SerializedEvent } from '../serialize.js';
import type { ScannedPage } from './reader.js';
import type { StopSignal } from '../subscription-handle.js';

export interface CommitWatcher {
  /** Something may have been committed: wake every waiter. */
  notify(): void;
  /** How many notifications so far; a waiter passes the count it last saw. */
  count(): number;
  /**
   * How many times polling saw data_version change: a commit by another connection (another
   * process, or our own writer: the two are not told apart), which memory may not hold.
   */
  foreignCount(): number;
  /** Resolves at the next notification after `seen` (at once if one already happened), or on stop. */
  wait(seen: number, signal: StopSignal): Promise<void>;
  /** Starts polling `dataVersion` for other connections' commits while anyone waits. */
  watch(dataVersion: () => unknown): void;
  close(): void;
}

export function commitWatcher(pollIntervalMs: number): CommitWatcher {
  let commits = 0;
  let foreign = 0;
  let closed = false;
  const waiters = new Set<() => void>();
  let readVersion: (() => unknown) | undefined;
  let lastVersion: unknown;
  let poller: NodeJS.Timeout | undefined;

  function notify(): void {
    commits++;
    for (const wake of [...waiters]) wake();
  }

  function poll(): void {
    if (waiters.size === 0 || !readVersion) return;
    const version = readVersion();
    if (version !== lastVersion) {
      lastVersion = version;
      foreign++;
      notify();
    }
  }

  return {
    notify,
    count: () => commits,
    foreignCount: () => foreign,
    wait(seen, signal) {
      if (commits !== seen || signal.stopped || closed) return Promise.resolve();
      if (!poller && readVersion) {
        poller = setInterval(poll, pollIntervalMs);
        poller.unref();
      }
      return new Promise((resolve) => {
        const wake = () => {
          waiters.delete(wake);
          resolve();
        };
        signal.wake = wake;
        waiters.add(wake);
      });
    },
    watch(dataVersion) {
      readVersion = dataVersion;
      lastVersion = dataVersion();
    },
    close() {
      closed = true;
      if (poller) clearInterval(poller);
      for (const wake of [...waiters]) wake();
    },
  };
}

/** What this process's writer committed: one append's events, at consecutive positions (from, to]. */
interface Committed<E extends RecordedEvent> {
  from: bigint;
  to: bigint;
  stream: string;
  firstRevision: bigint;
  serialized: SerializedEvent[];
  /** The appended objects themselves (the codec may build its events from them: no JSON round trip). */
  appended: EventToAppend[];
  /** Built on first use, once for every subscriber. */
  events: E[] | undefined;
}

export interface CommittedLog<E extends RecordedEvent = RecordedEvent> {
  /** Records an append this process's writer has just committed (before subscribers are woken). */
  record(stream: string, events: SerializedEvent[], appended: EventToAppend[], outcome: { nextExpectedRevision: bigint; position: bigint }): void;
  /**
   * The events after `after` (exclusive) that memory holds without a hole, up to `limit` matching
   * `prefix`: a page, as a read of the log would give it. 'gap' when memory holds later events but
   * not those right after `after` (another process wrote, or they were dropped): read the store.
   * undefined when memory holds nothing after `after`.
   */
  page(after: bigint, limit: number, prefix: string | undefined): ScannedPage<E> | 'gap' | undefined;
}

/**
 * A bounded memory of recent commits, so in-process subscribers (projector, sweeper, relay) take what
 * was just written without reading it back from SQLite. The codec builds each event from the appended
 * object it already validated (`appended`), without a JSON round trip; an event it cannot vouch for
 * is parsed from the same JSON text the store holds and decoded, so a subscriber sees what a read
 * would return either way.
 */
export function committedLog<E extends RecordedEvent>(codec: EventCodec<E>, maxEvents = 16_384): CommittedLog<E> {
  const { decode } = codec;
  const fromAppended = codec.appended?.bind(codec);
  let entries: Committed<E>[] = [];
  let head = 0;
  let held = 0;

  function eventsOf(entry: Committed<E>): E[] {
    if (entry.events) return entry.events;
    const { serialized, appended, stream } = entry;
    const events = new Array<E>(serialized.length);
    let position = entry.from;
    let revision = entry.firstRevision;
    for (let i = 0; i < serialized.length; i++) {
      position++;
      const built = fromAppended?.(appended[i]!, stream, revision, position);
      if (built !== undefined) events[i] = built;
      else {
        const e = serialized[i]!;
        events[i] = decode({
          id: e.id, stream, revision, position, type: e.type,
          data: JSON.parse(e.data), metadata: JSON.parse(e.metadata),
        });
      }
      revision++;
    }
    entry.events = events;
    return events;
  }

  /** Index of the first entry ending after `after`, or -1. */
  function firstAfter(after: bigint): number {
    let lo = head;
    let hi = entries.length;
    if (hi === lo || entries[hi - 1]!.to <= after) return -1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (entries[mid]!.to > after) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  return {
    record(stream, events, appended, outcome) {
      const n = events.length;
      if (n === 0) return;
      const to = outcome.position;
      const from = to - BigInt(n);
      const last = entries[entries.length - 1];
      // Commits arrive in position order; anything else means memory cannot be trusted to chain.
      if (last && from < last.to) {
        entries = [];
        head = 0;
        held = 0;
      }
      entries.push({ from, to, stream, firstRevision: outcome.nextExpectedRevision - BigInt(n - 1), serialized: events, appended, events: undefined });
      held += n;
      while (held > maxEvents && head < entries.length - 1) held -= entries[head++]!.serialized.length;
      if (head > 1024 && head * 2 > entries.length) {
        entries = entries.slice(head);
        head = 0;
      }
    },
    page(after, limit, prefix) {
      let i = firstAfter(after);
      if (i < 0) return undefined;
      if (entries[i]!.from > after) return 'gap';
      const events: E[] = [];
      let scannedTo = after;
      for (; i < entries.length; i++) {
        const entry = entries[i]!;
        if (entry.from > scannedTo) break;
        const matches = prefix === undefined || entry.stream.startsWith(prefix);
        if (matches) {
          for (const event of eventsOf(entry)) {
            if (event.position <= scannedTo) continue;
            events.push(event);
            scannedTo = event.position;
            if (events.length === limit) return { events, scannedTo };
          }
        }
        scannedTo = entry.to;
      }
      return { events, scannedTo };
    },
  };
}
