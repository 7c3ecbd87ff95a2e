// readStream for adapters that read a stream in pages by revision: one loop for the direction, the
// starting revision, maxCount and the short page that ends the stream, whatever fetches the page.
import type { ReadStreamOptions } from './port.js';

const MAX_REVISION = 9_223_372_036_854_775_807n;

/** Fetches at most `limit` events of the stream from revision `from` (inclusive), in `backwards` order or forwards. */
export type StreamPageFetch<T> = (from: bigint, backwards: boolean, limit: number) => T[] | Promise<T[]>;

export async function* pagedStream<T extends { revision: bigint }>(
  options: ReadStreamOptions, pageSize: number, fetch: StreamPageFetch<T>,
): AsyncGenerator<T, void, undefined> {
  const backwards = options.direction === 'backwards';
  const start = options.fromRevision ?? (backwards ? 'end' : 'start');
  let from = start === 'start' ? 0n : start === 'end' ? MAX_REVISION : start;
  let remaining = options.maxCount ?? Infinity;
  while (remaining > 0 && from >= 0n) {
    const limit = Math.min(pageSize, remaining);
    const page = await fetch(from, backwards, limit);
    yield* page;
    if (page.length < limit) return;
    remaining -= page.length;
    const last = page[page.length - 1]!.revision;
    from = backwards ? last - 1n : last + 1n;
  }
}
