// Fresh schemas on the PostgreSQL server named by TEST_PG_URL, so every test (and every rerun)
// starts from an empty store, and nothing is left behind afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Test } from 'tap';

export const pgUrl = process.env.TEST_PG_URL;

export const PG_SKIP = 'needs TEST_PG_URL (a PostgreSQL database; .ci/setup.d/20-postgres.sh sets it up)';

/** The server URL with `?schema=<fresh name>`; the schema is dropped at the end of the test. */
export function freshSchemaUrl(t: Test, base = pgUrl!): string {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  t.teardown(() => dropSchema(base, schema));
  const url = new URL(base);
  url.searchParams.set('schema', schema);
  return url.toString();
}

export async function dropSchema(base: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Runs SQL on the server directly (to look behind the adapter's back). */
export async function sql<R extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url.replace(/[?&]schema=[^&]*/, '') });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

type OpenPostgresStore = typeof import('../../src/store/postgres/store.js').openPostgresStore;

/** The adapter, loaded on first use: a run without a server never loads it (nor counts it as uncovered). */
export const openPostgresStore: OpenPostgresStore = async (...args) => (await import('../../src/store/postgres/store.js')).openPostgresStore(...args);
