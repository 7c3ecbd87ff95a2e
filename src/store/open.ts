// Chooses the event-store adapter from EVENT_STORE_URL.
import { ConfigError } from '../config/config.js';
import type { EventStore } from './port.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite/store.js';

/**
 * `readOnly`: the tools that only read (replay, verify) create nothing and write nothing.
 * `integrityCheck`: the embedded store's bounded `PRAGMA quick_check` at open (serve).
 */
export async function openEventStore(url: string, options: { readOnly?: boolean; integrityCheck?: SqliteStoreOptions['integrityCheck'] } = {}): Promise<EventStore> {
  if (url.startsWith('sqlite:')) {
    return openSqliteStore({
      path: url.slice('sqlite:'.length), readOnly: options.readOnly === true,
      ...(options.integrityCheck ? { integrityCheck: options.integrityCheck } : {}),
    });
  }
  if (url.startsWith('esdb://') || url.startsWith('esdb+discover://')) {
    const { openEsdbStore } = await import('./esdb/store.js');
    return openEsdbStore(url);
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { openPostgresStore } = await import('./postgres/store.js');
    return openPostgresStore(url);
  }
  throw new ConfigError(`EVENT_STORE_URL: unknown scheme in "${url}"`);
}
