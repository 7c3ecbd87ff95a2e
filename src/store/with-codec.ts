// A store that yields a codec's events over an adapter that yields stored ones (PostgreSQL,
// EventStoreDB): each event is decoded once, as it is read. The embedded store decodes natively.
import type { StoreCapabilities } from './capabilities.js';
import { rawCodec, type EventCodec, type EventStore, type RecordedEvent } from './port.js';

export function withCodec<E extends RecordedEvent>(store: EventStore, codec: EventCodec<E>): EventStore<E> {
  if ((codec as EventCodec) === rawCodec) return store as EventStore<E>;
  const { decode } = codec;
  const pages = store.capabilities?.pages;
  const capabilities: StoreCapabilities<E> = { ...store.capabilities, pages: pages && ((after, limit, prefix) => pages(after, limit, prefix).map(decode)) };
  if (!pages) delete capabilities.pages;
  return {
    capabilities,
    append: (stream, events, expected) => store.append(stream, events, expected),
    async *readStream(stream, options) {
      for await (const event of store.readStream(stream, options)) yield decode(event);
    },
    async *readAll(options) {
      for await (const event of store.readAll(options)) yield decode(event);
    },
    subscribeToAll(options, handler) {
      return store.subscribeToAll(options, {
        onEvents: (events) => handler.onEvents(events.map(decode)),
        ...(handler.onCaughtUp ? { onCaughtUp: (position) => handler.onCaughtUp!(position) } : {}),
        ...(handler.onError ? { onError: (error) => handler.onError!(error) } : {}),
      });
    },
    headPosition: () => store.headPosition(),
    streamRevision: (stream) => store.streamRevision(stream),
    close: () => store.close(),
  };
}
