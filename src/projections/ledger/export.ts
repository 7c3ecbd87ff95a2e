// The accountant's export (SPEC §10 `export`): one row per session and per adjustment, folded from
// the event store with the domain's accrual up to the head at the start (a consistent snapshot that
// never locks the read model `serve` answers from), sorted by time in a scratch SQLite file (its
// sorter spills to disk: bounded memory), then streamed out as CSV (RFC 4180, csv-stringify) or NDJSON.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { stringify } from 'csv-stringify';
import type { MiningStore } from '../../commands/codec.js';
import { applyEvent, emptyAccrual, type AccountAccrual } from '../../domain/accrual.js';
import { accountOf, STREAM_PREFIX, streamOf } from '../../domain/events.js';
import { formatTokens } from '../../domain/money.js';
import { sessionEarnedUnits, type SessionAccrual } from '../../domain/session.js';
import { toIso } from '../../domain/time.js';

export type ExportFormat = 'csv' | 'ndjson';

/** One line of the export. Units are signed integer strings; `balanceChange` is the same in tokens. */
export interface ExportRow {
  kind: 'session' | 'adjustment';
  /** What the row is sorted and filtered by: a session's end (its last presence while still open), an adjustment's time. */
  time: string;
  accountId: string;
  sessionId: string | null;
  startedAt: string | null;
  stoppedAt: string | null;
  /** A session's stop reason, or an adjustment's reason. */
  reason: string | null;
  creditedMs: number | null;
  earnedUnits: string | null;
  adjustmentId: string | null;
  amountUnits: string | null;
  note: string | null;
  reference: string | null;
  actor: string | null;
  balanceChange: string;
}

export const EXPORT_COLUMNS: (keyof ExportRow)[] = [
  'kind', 'time', 'accountId', 'sessionId', 'startedAt', 'stoppedAt', 'reason', 'creditedMs', 'earnedUnits',
  'adjustmentId', 'amountUnits', 'note', 'reference', 'actor', 'balanceChange',
];

export interface ExportOptions {
  store: MiningStore;
  /** Inclusive lower bound on `time` (epoch ms). */
  from?: number | undefined;
  /** Exclusive upper bound on `time` (epoch ms). */
  to?: number | undefined;
  accountId?: string | undefined;
  format: ExportFormat;
  out: Writable;
  /** Where the scratch file goes (default: the OS temp directory). */
  scratchDir?: string;
}

export interface ExportSummary {
  rows: number;
  sessions: number;
  adjustments: number;
  /** Σ balanceChange of the rows written, per account. */
  totals: Map<string, bigint> | null;
  /** The store's last position folded. */
  position: bigint;
}

function sessionRow(accountId: string, s: SessionAccrual): { time: number; row: ExportRow } {
  const earned = sessionEarnedUnits(s);
  const time = s.stoppedAt ?? s.lastPresenceAt;
  return {
    time,
    row: {
      kind: 'session', time: toIso(time), accountId, sessionId: s.sessionId, startedAt: toIso(s.startedAt),
      stoppedAt: s.stoppedAt === null ? null : toIso(s.stoppedAt), reason: s.reason, creditedMs: s.creditedMs,
      earnedUnits: earned.toString(), adjustmentId: null, amountUnits: null, note: null, reference: null, actor: null,
      balanceChange: formatTokens(earned),
    },
  };
}

const BATCH = 10_000;

/** Writes the export; resolves once the last row has been handed to `out` (the caller ends it). */
export async function exportLedger(options: ExportOptions): Promise<ExportSummary> {
  const dir = mkdtempSync(join(options.scratchDir ?? tmpdir(), 'mining-ledger-export-'));
  const db = new Database(join(dir, 'rows.db'));
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -16384');
    db.exec('CREATE TABLE rows (time INTEGER NOT NULL, seq INTEGER NOT NULL, row TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO rows(time, seq, row) VALUES (?, ?, ?)');
    let pending: [number, number, string][] = [];
    const flush = db.transaction((batch: [number, number, string][]) => {
      for (const [time, seq, row] of batch) insert.run(time, seq, row);
    });
    let seq = 0;
    const from = options.from ?? -Infinity;
    const to = options.to ?? Infinity;
    const keep = (time: number, row: ExportRow) => {
      if (time < from || time >= to) return;
      pending.push([time, seq++, JSON.stringify(row)]);
      if (pending.length >= BATCH) {
        flush(pending);
        pending = [];
      }
    };

    // Only accounts with an open session are held in memory; the rest are emitted as they end.
    const open = new Map<string, AccountAccrual>();
    const head = await options.store.headPosition();
    let position = 0n;
    const events = options.accountId === undefined
      ? options.store.readAll({ prefix: STREAM_PREFIX })
      : options.store.readStream(streamOf(options.accountId));
    for await (const recorded of events) {
      if (head === 'start' || recorded.position > head) break;
      position = recorded.position;
      const accountId = accountOf(recorded.stream);
      if (accountId === undefined) continue;
      const { event, metadata } = recorded;
      let accrual = open.get(accountId);
      if (!accrual) accrual = emptyAccrual();
      const ledger = accrual.active;
      applyEvent(accrual, event, { keepSessions: false });
      if (ledger && accrual.active !== ledger) {
        const { time, row } = sessionRow(accountId, ledger.session);
        keep(time, row);
      }
      if (event.type === 'BalanceAdjusted') {
        const d = event.data;
        const time = Date.parse(d.at);
        keep(time, {
          kind: 'adjustment', time: d.at, accountId, sessionId: null, startedAt: null, stoppedAt: null, reason: d.reason,
          creditedMs: null, earnedUnits: null, adjustmentId: d.adjustmentId, amountUnits: d.amountUnits, note: d.note,
          reference: d.reference ?? null, actor: `${metadata.actor.kind}:${metadata.actor.id}`,
          balanceChange: formatTokens(BigInt(d.amountUnits)),
        });
      }
      if (accrual.active) open.set(accountId, accrual);
      else open.delete(accountId);
    }
    // Sessions still open at the head: their earnings so far, so the totals are the balances.
    for (const [accountId, accrual] of open) {
      const { time, row } = sessionRow(accountId, accrual.active!.session);
      keep(time, row);
    }
    open.clear();
    flush(pending);
    pending = [];

    const summary: ExportSummary = {
      rows: 0, sessions: 0, adjustments: 0, totals: options.accountId === undefined ? null : new Map(), position,
    };
    const sink = options.format === 'csv' ? csvSink(options.out) : ndjsonSink(options.out);
    for (const { row: text } of db.prepare<[], { row: string }>('SELECT row FROM rows ORDER BY time, seq').iterate()) {
      const row = JSON.parse(text) as ExportRow;
      summary.rows++;
      if (row.kind === 'session') summary.sessions++;
      else summary.adjustments++;
      if (summary.totals) {
        const units = BigInt(row.earnedUnits ?? row.amountUnits!);
        summary.totals.set(row.accountId, (summary.totals.get(row.accountId) ?? 0n) + units);
      }
      await sink.write(row);
    }
    await sink.end();
    return summary;
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface RowSink {
  write(row: ExportRow): Promise<void>;
  end(): Promise<void>;
}

function waitDrain(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      out.off('error', fail);
      resolve();
    };
    const fail = (error: Error) => {
      out.off('drain', done);
      reject(error);
    };
    out.once('drain', done);
    out.once('error', fail);
  });
}

function ndjsonSink(out: Writable): RowSink {
  return {
    async write(row) {
      if (!out.write(`${JSON.stringify(row)}\n`)) await waitDrain(out);
    },
    async end() {},
  };
}

function csvSink(out: Writable): RowSink {
  // RFC 4180: CRLF record ends, fields with a comma, quote or line break quoted, quotes doubled.
  const stringifier = stringify({ header: true, columns: EXPORT_COLUMNS, record_delimiter: 'windows', cast: { number: String } });
  stringifier.on('data', (chunk: Buffer | string) => {
    if (!out.write(chunk)) stringifier.pause();
  });
  out.on('drain', () => stringifier.resume());
  return {
    async write(row) {
      const values = EXPORT_COLUMNS.map((column) => row[column] ?? '');
      if (!stringifier.write(values)) await waitDrain(stringifier);
    },
    async end() {
      // csv-stringify writes the header even when no row matched: the sheet still has its columns.
      await new Promise<void>((resolve, reject) => {
        stringifier.once('end', resolve);
        stringifier.once('error', reject);
        stringifier.end();
      });
    },
  };
}
