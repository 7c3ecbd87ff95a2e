// Appends to PostgreSQL with group commit: appends that arrive while a transaction is in flight wait
// and go together in the next one (one lock, one INSERT, one WAL flush). Every append transaction
// takes the store's advisory lock first, so positions are handed out in commit order and a reader
// that has seen position P has seen everything below it (see docs/store.md for the measurement).
import type { Pool, PoolClient } from 'pg';
import {
  InvalidAppendError, revisionMatches, StoreUnavailableError, WrongExpectedRevisionError,
  type AppendResult, type ExpectedRevision,
} from '../port.js';
import type { SerializedEvent } from '../serialize.js';
import { addRow, emptyColumns, type InsertColumns } from './codec.js';
import { isUnavailable, toPortError } from './errors.js';
import type { Names } from './schema.js';

export interface AppendRequest {
  stream: string;
  expected: ExpectedRevision;
  events: SerializedEvent[];
}

interface Pending extends AppendRequest {
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

interface StoredAt {
  stream: string;
  revision: bigint;
  position: bigint;
}

/** A stream's last event as this batch sees it; the position of an event this batch writes is known after the INSERT. */
interface Head {
  revision: bigint;
  position: () => bigint;
}

export interface GroupCommitWriter {
  append(request: AppendRequest): Promise<AppendResult>;
  /** Commits what is queued, then refuses new appends. */
  close(): Promise<void>;
}

export interface WriterOptions {
  pool: Pool;
  names: Names;
  /** Awaited before the first transaction (tables created on first use). */
  ready(): Promise<void>;
  /** Called after each commit that wrote events, with the last position written. */
  onCommitted(position: bigint): void;
  /** Most events in one transaction (default 5000). */
  maxBatchEvents?: number;
}

type Outcome = (() => AppendResult) | Error | 'retry';

export function groupCommitWriter(options: WriterOptions): GroupCommitWriter {
  const { pool, names } = options;
  const maxBatchEvents = options.maxBatchEvents ?? 5000;
  const queue: Pending[] = [];
  let flushing: Promise<void> | undefined;
  let closed = false;

  const headsSql = `SELECT s.name AS stream, e.revision, e.position FROM unnest($1::text[]) AS s(name)
    LEFT JOIN LATERAL (SELECT revision, position FROM ${names.events} WHERE stream = s.name ORDER BY revision DESC LIMIT 1) e ON true`;
  const idsSql = `SELECT id, stream, revision, position FROM ${names.events} WHERE id = ANY($1::text[])`;
  const insertSql = `INSERT INTO ${names.events} (id, stream, revision, type, data, metadata)
    SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[]) RETURNING id, position`;

  /** A retried append whose events are all stored, in order, where it expected them: the first answer again. */
  function alreadyAppended(request: AppendRequest, stored: Map<string, StoredAt>): AppendResult | undefined {
    let previous: StoredAt | undefined;
    let first: StoredAt | undefined;
    for (const event of request.events) {
      const at = stored.get(event.id);
      if (!at || at.stream !== request.stream || (previous && at.revision !== previous.revision + 1n)) return undefined;
      first ??= at;
      previous = at;
    }
    if (!first || !previous) return undefined;
    const { expected } = request;
    const where = typeof expected === 'bigint' ? first.revision === expected + 1n : expected === 'no_stream' ? first.revision === 0n : true;
    return where ? { nextExpectedRevision: previous.revision, position: previous.position } : undefined;
  }

  function foreignId(request: AppendRequest, stored: Map<string, StoredAt>): InvalidAppendError {
    const taken = request.events.find((e) => stored.has(e.id));
    const at = taken && stored.get(taken.id);
    return new InvalidAppendError(at
      ? `${request.stream}: event id ${taken.id} is already stored in ${at.stream} at revision ${at.revision}`
      : `${request.stream}: an event id in this append is already stored`);
  }

  /** One transaction for the whole batch; conflicts and retries are decided here, under the lock. */
  async function commit(client: PoolClient, batch: Pending[]): Promise<Outcome[]> {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(${names.lockKey})`);
    const streams = [...new Set(batch.map((r) => r.stream))];
    const ids = batch.flatMap((r) => r.events.map((e) => e.id));
    const [headRows, idRows] = await Promise.all([
      client.query<{ stream: string; revision: string | null; position: string | null }>(headsSql, [streams]),
      ids.length > 0 ? client.query<{ id: string; stream: string; revision: string; position: string }>(idsSql, [ids]) : { rows: [] },
    ]);
    const heads = new Map<string, Head | undefined>();
    for (const row of headRows.rows) {
      const position = row.position === null ? 0n : BigInt(row.position);
      heads.set(row.stream, row.revision === null ? undefined : { revision: BigInt(row.revision), position: () => position });
    }
    const stored = new Map<string, StoredAt>(idRows.rows.map((r) => [r.id, { stream: r.stream, revision: BigInt(r.revision), position: BigInt(r.position) }]));

    const columns: InsertColumns = emptyColumns();
    const positions = new Map<string, bigint>();
    const writtenHere = new Set<string>();
    const outcomes = batch.map((request): Outcome => {
      const head = heads.get(request.stream);
      const actual: bigint | 'no_stream' = head ? head.revision : 'no_stream';
      // The same ids twice in one batch (a retry sent while the first was in flight): answer it next time.
      if (request.events.some((e) => writtenHere.has(e.id))) return 'retry';
      const matches = revisionMatches(request.expected, actual);
      if (request.events.some((e) => stored.has(e.id))) {
        const again = alreadyAppended(request, stored);
        if (again) return () => again;
        return matches ? foreignId(request, stored) : new WrongExpectedRevisionError(request.stream, request.expected, actual);
      }
      if (!matches) return new WrongExpectedRevisionError(request.stream, request.expected, actual);
      if (request.events.length === 0) {
        return head ? () => ({ nextExpectedRevision: head.revision, position: head.position() }) : () => ({ nextExpectedRevision: -1n, position: 0n });
      }
      let revision = head ? head.revision : -1n;
      for (const event of request.events) {
        addRow(columns, request.stream, ++revision, event);
        writtenHere.add(event.id);
      }
      const lastId = request.events[request.events.length - 1]!.id;
      const next = { revision, position: () => positions.get(lastId)! };
      heads.set(request.stream, next);
      return () => ({ nextExpectedRevision: next.revision, position: next.position() });
    });

    if (columns.id.length > 0) {
      const inserted = await client.query<{ id: string; position: string }>(insertSql,
        [columns.id, columns.stream, columns.revision, columns.type, columns.data, columns.metadata]);
      let last = 0n;
      for (const row of inserted.rows) {
        const position = BigInt(row.position);
        positions.set(row.id, position);
        if (position > last) last = position;
      }
      await client.query('SELECT pg_notify($1, $2)', [names.channel, last.toString()]);
      await client.query('COMMIT');
      options.onCommitted(last);
    } else {
      await client.query('COMMIT');
    }
    return outcomes;
  }

  /** Runs a batch in its own transaction; a content error in a batch of several is retried append by append. */
  async function run(batch: Pending[]): Promise<void> {
    let client: PoolClient;
    try {
      await options.ready();
      client = await pool.connect();
    } catch (error) {
      const failure = toPortError(error);
      for (const request of batch) request.reject(failure);
      return;
    }
    let outcomes: Outcome[];
    try {
      outcomes = await commit(client, batch);
      client.release();
    } catch (error) {
      const broken = isUnavailable(error);
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      client.release(broken ? (error as Error) : undefined);
      if (broken) {
        // The commit may or may not have happened; a retry with the same ids is answered either way.
        const failure = toPortError(error);
        for (const request of batch) request.reject(failure);
      } else if (batch.length > 1) {
        for (const request of batch) await run([request]);
      } else {
        batch[0]!.reject(contentError(batch[0]!, error));
      }
      return;
    }
    batch.forEach((request, i) => {
      const outcome = outcomes[i]!;
      if (outcome === 'retry') queue.unshift(request);
      else if (outcome instanceof Error) request.reject(outcome);
      else request.resolve(outcome());
    });
  }

  function takeBatch(): Pending[] {
    let events = 0;
    let count = 0;
    while (count < queue.length && (count === 0 || events + queue[count]!.events.length <= maxBatchEvents)) {
      events += queue[count]!.events.length;
      count++;
    }
    return queue.splice(0, count);
  }

  function flush(): void {
    if (flushing || queue.length === 0) return;
    flushing = (async () => {
      while (queue.length > 0) await run(takeBatch());
    })().finally(() => {
      flushing = undefined;
      flush();
    });
  }

  return {
    append(request) {
      if (closed) return Promise.reject(new StoreUnavailableError('event store is closed'));
      return new Promise<AppendResult>((resolve, reject) => {
        queue.push({ ...request, resolve, reject });
        flush();
      });
    },
    async close() {
      closed = true;
      while (flushing) await flushing;
    },
  };
}

/** A data or constraint error on one append is its content's fault; anything else passes unchanged. */
function contentError(request: AppendRequest, error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('22') || code.startsWith('23') || code === '54000')) {
    return new InvalidAppendError(`${request.stream}: PostgreSQL refused the append: ${(error as Error).message}`);
  }
  return error;
}
