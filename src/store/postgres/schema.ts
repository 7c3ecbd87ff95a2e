// Where the PostgreSQL store keeps its events: one schema (default mining_ledger, or ?schema= in the
// URL) holding one table, created on first use under an advisory lock so that several processes
// starting at once do not race on CREATE TABLE.
import type { PoolClient } from 'pg';
import { ConfigError } from '../../config/config.js';

export interface PostgresLocation {
  /** The connection string handed to the driver (without our own `schema` parameter). */
  connectionString: string;
  schema: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,47}$/;
export const DEFAULT_SCHEMA = 'mining_ledger';

/** postgres://user:password@host:port/database?schema=name (also postgresql://). */
export function parsePostgresUrl(url: string): PostgresLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('EVENT_STORE_URL: not a valid postgres:// URL');
  }
  if ((parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') || parsed.hostname === '') {
    throw new ConfigError('EVENT_STORE_URL: a PostgreSQL URL needs a host, e.g. postgres://user:password@localhost:5432/mining');
  }
  const schema = parsed.searchParams.get('schema') ?? DEFAULT_SCHEMA;
  if (!IDENTIFIER.test(schema)) {
    throw new ConfigError(`EVENT_STORE_URL: schema "${schema}" must be a lower-case SQL identifier (a-z, 0-9, _; at most 48)`);
  }
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), schema };
}

/** Schema-qualified names and the one lock that orders every append (see docs/store.md). */
export interface Names {
  schema: string;
  events: string;
  /** LISTEN/NOTIFY channel that carries the last committed position. */
  channel: string;
  /** Key of the transaction-level advisory lock every append transaction takes. */
  lockKey: string;
}

export function namesOf(schema: string): Names {
  return { schema, events: `"${schema}".events`, channel: `${schema}_events`, lockKey: `hashtext('mining-ledger:${schema}')` };
}

export async function ensureSchema(client: PoolClient, names: Names): Promise<void> {
  await client.query('BEGIN');
  try {
    // Session-independent lock on the schema's name: concurrent first starts create it once.
    await client.query(`SELECT pg_advisory_xact_lock(${names.lockKey})`);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${names.schema}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${names.events} (
      position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id text NOT NULL UNIQUE,
      stream text NOT NULL,
      revision bigint NOT NULL,
      type text NOT NULL,
      data text NOT NULL,
      metadata text NOT NULL,
      UNIQUE (stream, revision)
    )`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
