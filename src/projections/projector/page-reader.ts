// Reading the whole log in pages: the store's `pages` capability, a synchronous page read, when it
// declares one (it is several times cheaper than an async iterator), the port's readAll otherwise.
import { STREAM_PREFIX } from '../../domain/events.js';
import type { EventStore, RecordedEvent } from '../../store/port.js';

/** Events of `mining-` streams after a position, at most `limit`. */
export type PageReader<E extends RecordedEvent = RecordedEvent> = (after: bigint, limit: number) => Promise<E[]>;

export function pageReader<E extends RecordedEvent>(store: EventStore<E>): PageReader<E> {
  const read = store.capabilities?.pages;
  // Only `mining-` streams: the store's codec decodes every event it hands out, and another stream's are not mining events.
  if (read) return async (after, limit) => read(after, limit, STREAM_PREFIX);
  return async (after, limit) => {
    const page: E[] = [];
    for await (const event of store.readAll({ from: after === 0n ? 'start' : after, prefix: STREAM_PREFIX, maxCount: limit })) {
      page.push(event);
    }
    return page;
  };
}
