// The read side of a read-model connection: rows in, domain views out. Used by the projector's own
// ReadModel, by read-only followers, and by `verify`.
import type Database from 'better-sqlite3';
import type { ActorKind, AdjustmentReason, StopReason } from '../../domain/events.js';
import type { SessionAccrual } from '../../domain/session.js';
import { InvalidCursorError, type AccountView, type AdjustmentPage, type AdjustmentView, type SessionPage } from './read-model.js';

export interface AccountRow {
  account_id: string;
  balance_units: bigint;
  credited_ms: bigint;
  mining: bigint;
  active_seq: bigint | null;
  session_count: bigint;
  last_event_at: bigint | null;
  stream_revision: bigint | null;
  position: bigint;
  events: bigint;
}

export interface SessionRow {
  account_id: string;
  seq: bigint;
  session_id: string;
  started_at: bigint;
  rate_units_per_hour: bigint;
  heartbeat_timeout_ms: bigint;
  max_session_ms: bigint;
  last_presence_at: bigint;
  last_heartbeat_at: bigint | null;
  heartbeats: bigint;
  credited_ms: bigint;
  stopped_at: bigint | null;
  reason: string | null;
  earned_units: bigint;
}

export interface AdjustmentRow {
  account_id: string;
  seq: bigint;
  adjustment_id: string;
  at: bigint;
  amount_units: bigint;
  reason: string;
  note: string;
  reference: string | null;
  actor_kind: string;
  actor_id: string;
  position: bigint;
}

export function adjustmentOfRow(row: AdjustmentRow): AdjustmentView {
  return {
    adjustmentId: row.adjustment_id,
    accountId: row.account_id,
    at: Number(row.at),
    amountUnits: row.amount_units,
    reason: row.reason as AdjustmentReason,
    note: row.note,
    reference: row.reference,
    actor: { kind: row.actor_kind as ActorKind, id: row.actor_id },
    position: row.position,
  };
}

const num = (value: bigint | null): number | null => (value === null ? null : Number(value));

export function sessionOfRow(row: SessionRow): SessionAccrual {
  return {
    sessionId: row.session_id,
    accountId: row.account_id,
    startedAt: Number(row.started_at),
    rateUnitsPerHour: row.rate_units_per_hour,
    heartbeatTimeoutMs: Number(row.heartbeat_timeout_ms),
    maxSessionMs: Number(row.max_session_ms),
    lastPresenceAt: Number(row.last_presence_at),
    lastHeartbeatAt: num(row.last_heartbeat_at),
    heartbeats: Number(row.heartbeats),
    creditedMs: Number(row.credited_ms),
    stoppedAt: num(row.stopped_at),
    reason: row.reason as StopReason | null,
  };
}

// Cursor = the seq of the last session handed out, so pages stay stable while new sessions start.
const CURSOR = /^s([1-9][0-9]{0,15})$/;

export function encodeCursor(seq: bigint): string {
  return Buffer.from(`s${seq}`).toString('base64url');
}

export function decodeCursor(cursor: string): bigint {
  const match = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (!match || Buffer.from(`s${match[1]}`).toString('base64url') !== cursor) {
    throw new InvalidCursorError(`cursor "${cursor}" was not issued by this service`);
  }
  return BigInt(match[1]!);
}

export interface ReadModelQueries {
  accountRow(accountId: string): AccountRow | undefined;
  account(accountId: string): AccountView | null;
  sessions(accountId: string, options: { limit: number; cursor?: string | undefined }): SessionPage;
  activeSessions(options: { afterAccountId?: string; limit: number }): SessionAccrual[];
  adjustments(accountId: string, options: { limit: number; cursor?: string | undefined }): AdjustmentPage;
  /** Account rows in account order, for `verify`. */
  accountRows(afterAccountId: string | null, limit: number): AccountRow[];
  accountCount(): number;
  position(): bigint;
}

export function createQueries(db: Database.Database): ReadModelQueries {
  const accountStmt = db.prepare<[string], AccountRow>('SELECT * FROM accounts WHERE account_id = ?');
  const sessionStmt = db.prepare<[string, bigint], SessionRow>('SELECT * FROM sessions WHERE account_id = ? AND seq = ?');
  const pageStmt = db.prepare<[string, bigint, number], SessionRow>(
    'SELECT * FROM sessions WHERE account_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
  );
  const activeStmt = db.prepare<[string, number], SessionRow>(`
    SELECT s.* FROM accounts a JOIN sessions s ON s.account_id = a.account_id AND s.seq = a.active_seq
    WHERE a.active_seq IS NOT NULL AND a.account_id > ? ORDER BY a.account_id LIMIT ?`);
  const adjustmentPageStmt = db.prepare<[string, bigint, number], AdjustmentRow>(
    'SELECT * FROM adjustments WHERE account_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
  );
  const rowsStmt = db.prepare<[string, number], AccountRow>('SELECT * FROM accounts WHERE account_id > ? ORDER BY account_id LIMIT ?');
  const countStmt = db.prepare<[], { n: bigint }>('SELECT count(*) AS n FROM accounts');
  const checkpointStmt = db.prepare<[], { position: bigint }>('SELECT position FROM checkpoint WHERE id = 1');

  function account(accountId: string): AccountView | null {
    const row = accountStmt.get(accountId);
    if (!row) return null;
    const active = row.active_seq === null ? undefined : sessionStmt.get(accountId, row.active_seq);
    return {
      accountId,
      balanceUnits: row.balance_units,
      creditedMs: Number(row.credited_ms),
      active: active ? sessionOfRow(active) : null,
      lastEventAt: num(row.last_event_at),
      streamRevision: row.stream_revision,
      position: row.position,
    };
  }

  function sessions(accountId: string, options: { limit: number; cursor?: string | undefined }): SessionPage {
    const before = options.cursor === undefined ? 9_223_372_036_854_775_807n : decodeCursor(options.cursor);
    const limit = Math.max(1, Math.floor(options.limit));
    const rows = pageStmt.all(accountId, before, limit + 1);
    const page = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? encodeCursor(page[page.length - 1]!.seq) : null;
    return { sessions: page.map(sessionOfRow), nextCursor };
  }

  function adjustments(accountId: string, options: { limit: number; cursor?: string | undefined }): AdjustmentPage {
    const before = options.cursor === undefined ? 9_223_372_036_854_775_807n : decodeCursor(options.cursor);
    const limit = Math.max(1, Math.floor(options.limit));
    const rows = adjustmentPageStmt.all(accountId, before, limit + 1);
    const page = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? encodeCursor(page[page.length - 1]!.seq) : null;
    return { adjustments: page.map(adjustmentOfRow), nextCursor };
  }

  return {
    adjustments,
    accountRow: (accountId) => accountStmt.get(accountId),
    account,
    sessions,
    activeSessions: (options) => activeStmt.all(options.afterAccountId ?? '', Math.max(0, options.limit)).map(sessionOfRow),
    accountRows: (after, limit) => rowsStmt.all(after ?? '', limit),
    accountCount: () => Number(countStmt.get()!.n),
    position: () => checkpointStmt.get()?.position ?? 0n,
  };
}
