// Reading the whole log in pages: the store's `pages` capability, a synchronous page read, when it
// declares one (it is several times cheaper than an async iterator), the port's readAll otherwise.
import { STREAM_PREFIX } from '../../domain/events.js';
import type { EventStore, RecordedEvent } from '../../store/port.js';

/** Events after a position, at most `limit`; streams outside `mining-` may be included (callers skip them). */
export type PageReader = (after: bigint, limit: number) => Promise<RecordedEvent[]>;

export function pageReader(store: EventStore): PageReader {
  const read = store.capabilities?.pages;
  // Unfiltered: a prefix test in SQL costs more than skipping the rare other stream.
  if (read) return async (after, limit) => read(after, limit);
  return async (after, limit) => {
    const page: RecordedEvent[] = [];
    for await (const event of store.readAll({ from: after === 0n ? 'start' : after, prefix: STREAM_PREFIX, maxCount: limit })) {
      page.push(event);
    }
    return page;
  };
}
