// A partition of the embedded store's log, read straight from its `events` table: parallel rebuild
// workers each fold the accounts of one partition and skip the others' rows inside SQLite, before
// any JSON is parsed. This is the one place projections know the SQLite adapter's table; it belongs
// in src/store/sqlite as a read of the adapter (see docs/projections.md).
import Database from 'better-sqlite3';
import type { RecordedEvent } from '../store/port.js';

interface Row {
  position: bigint;
  stream: string;
  revision: bigint;
  id: string;
  type: string;
  data: string;
  metadata: string;
}

export interface PartitionReader {
  /** Events of this partition with after < position <= upTo, at most `limit`. */
  page(after: bigint, upTo: bigint, limit: number): RecordedEvent[];
  close(): void;
}

/**
 * Cheap and deterministic: the account id's first and last characters (`mining-` is 7 long), so ids
 * that share a suffix (e-mail addresses) or a prefix (`miner-000123`) still spread.
 */
export const PARTITION_SQL = '(unicode(substr(stream, 8, 1)) + unicode(substr(stream, -1)))';

export function openPartitionReader(eventsPath: string, partition: number, partitions: number): PartitionReader {
  const db = new Database(eventsPath, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 10000');
  db.defaultSafeIntegers(true);
  const statement = db.prepare<[bigint, bigint, number], Row>(`
    SELECT position, stream, revision, id, type, data, metadata FROM events
    WHERE position > ? AND position <= ? AND ${PARTITION_SQL} % ${partitions} = ${partition}
    ORDER BY position LIMIT ?`);
  return {
    page(after, upTo, limit) {
      return statement.all(after, upTo, limit).map((row) => ({
        id: row.id, stream: row.stream, revision: row.revision, position: row.position, type: row.type,
        data: JSON.parse(row.data), metadata: JSON.parse(row.metadata),
      }));
    },
    close: () => db.close(),
  };
}
