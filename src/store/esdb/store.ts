// PLACEHOLDER until the EventStoreDB adapter lands.
import { ConfigError } from '../../config/config.js';
import type { EventStore } from '../port.js';

export async function openEsdbStore(url: string): Promise<EventStore> {
  throw new ConfigError(`EVENT_STORE_URL: the EventStoreDB adapter is not built yet (${url})`);
}
