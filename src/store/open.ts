// Chooses the event-store adapter from EVENT_STORE_URL.
import { ConfigError } from '../config/config.js';
import type { EventCodec, EventStore, RecordedEvent } from './port.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite/store.js';
import { withCodec } from './with-codec.js';

/**
 * `codec`: what every read yields (the mining codec, src/commands/codec.ts, for the application).
 * `readOnly`: the tools that only read (replay, verify) create nothing and write nothing.
 * `integrityCheck`: the embedded store's bounded `PRAGMA quick_check` at open (serve).
 */
export async function openEventStore<E extends RecordedEvent>(
  url: string, options: { codec: EventCodec<E>; readOnly?: boolean; integrityCheck?: SqliteStoreOptions['integrityCheck'] },
): Promise<EventStore<E>> {
  const { codec } = options;
  if (url.startsWith('sqlite:')) {
    return openSqliteStore({
      path: url.slice('sqlite:'.length), readOnly: options.readOnly === true, codec,
      ...(options.integrityCheck ? { integrityCheck: options.integrityCheck } : {}),
    });
  }
  if (url.startsWith('esdb://') || url.startsWith('esdb+discover://')) {
    const { openEsdbStore } = await import('./esdb/store.js');
    return withCodec(await openEsdbStore(url), codec);
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { openPostgresStore } = await import('./postgres/store.js');
    return withCodec(await openPostgresStore(url), codec);
  }
  throw new ConfigError(`EVENT_STORE_URL: unknown scheme in "${url}"`);
}
