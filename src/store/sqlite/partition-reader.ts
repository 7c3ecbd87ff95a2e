// The embedded store's `partitions` capability: a partition of the log, read straight from its
// `events` table by path (rebuild workers have no store object; they load this module through
// capabilities.ts openPartition): each worker folds the accounts of one partition and the others'
// rows are skipped inside SQLite, before any JSON is parsed.
import Database from 'better-sqlite3';
import type { PartitionReader } from '../capabilities.js';
import { toRecorded, type Row } from './reader.js';

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
      return statement.all(after, upTo, limit).map(toRecorded);
    },
    close: () => db.close(),
  };
}
