// Helpers shared by the store contract sections: fresh namespaces so that every test owns its streams
// (an EventStoreDB server is shared between runs), event builders, and a subscription recorder.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Test } from 'tap';
import type {
  EventStore, EventToAppend, Position, RecordedEvent, SubscribeOptions, Subscription,
} from '../../src/store/port.js';

export interface StoreUnderTest {
  /** Opens the store at this test's location; opening again after close() sees the same events. */
  open(): Promise<EventStore>;
}

/** Given a test, returns a fresh location to open stores at (an empty SQLite file, or a server). */
export type StoreFactory = (t: Test) => Promise<StoreUnderTest> | StoreUnderTest;

export interface ContractContext {
  store: EventStore;
  /** Opens another handle on the same location, closed at teardown. */
  reopen(): Promise<EventStore>;
  /** A stream-name prefix that no other test uses, ending in '-'. */
  ns: string;
}

export async function contractContext(t: Test, factory: StoreFactory): Promise<ContractContext> {
  const location = await factory(t);
  const opened: EventStore[] = [];
  const open = async () => {
    const store = await location.open();
    opened.push(store);
    return store;
  };
  t.teardown(async () => {
    for (const store of opened) await store.close();
  });
  return { store: await open(), reopen: open, ns: `c${randomBytes(6).toString('hex')}-` };
}

export function newEvents(count: number, type = 'Tested', from = 0): EventToAppend[] {
  return Array.from({ length: count }, (_, i) => ({
    id: randomUUID(),
    type,
    data: { n: from + i, note: 'ü ✓' },
    metadata: { schemaVersion: 1, seq: from + i },
  }));
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

export const revisionsOf = (events: RecordedEvent[]) => events.map((e) => e.revision);
export const idsOf = (events: { id: string }[]) => events.map((e) => e.id);

/** Records what a subscription delivers and lets a test wait for a condition on it. */
export interface Recorder {
  events: RecordedEvent[];
  /** Every onEvents call, in order, with its batch size. */
  batches: number[];
  /** Index into `events` at which onCaughtUp was called (-1 before), and its position. */
  caughtUpAt: number;
  caughtUpPosition: Position | undefined;
  errors: unknown[];
  subscription: Subscription;
  until(what: string, condition: () => boolean, timeoutMs?: number): Promise<void>;
}

export function record(store: EventStore, options: SubscribeOptions): Recorder {
  const checks = new Set<() => void>();
  const poke = () => checks.forEach((check) => check());
  const recorder: Recorder = {
    events: [], batches: [], caughtUpAt: -1, caughtUpPosition: undefined, errors: [],
    subscription: undefined as unknown as Subscription,
    until(what, condition, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          checks.delete(check);
          reject(new Error(`subscription: timed out waiting for ${what} (have ${recorder.events.length} events)`));
        }, timeoutMs);
        const check = () => {
          if (!condition()) return;
          clearTimeout(timer);
          checks.delete(check);
          resolve();
        };
        checks.add(check);
        check();
      });
    },
  };
  recorder.subscription = store.subscribeToAll(options, {
    onEvents(events) {
      recorder.batches.push(events.length);
      recorder.events.push(...events);
      poke();
    },
    onCaughtUp(position) {
      recorder.caughtUpAt = recorder.events.length;
      recorder.caughtUpPosition = position;
      poke();
    },
    onError(error) {
      recorder.errors.push(error);
      poke();
    },
  });
  return recorder;
}
