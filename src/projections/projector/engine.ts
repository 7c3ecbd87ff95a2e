// The projection engine: folds recorded events into per-account state with the domain's accrual
// (src/domain/accrual.ts), keeps touched accounts in memory, and writes what changed together with
// the checkpoint in one transaction. The live projector and `rebuild` both drive it.
import type Database from 'better-sqlite3';
import { applyEvent, type AccountAccrual, type AccrualOptions, type SessionLedger } from '../../domain/accrual.js';
import { accountOf, type Actor, type BalanceAdjustedData, type MiningEvent } from '../../domain/events.js';
import { sessionEarnedUnits, type SessionAccrual } from '../../domain/session.js';
import { parseIso } from '../../domain/time.js';
import type { MiningRecord } from '../../commands/codec.js';
import { sessionOfRow, type AccountRow, type SessionRow } from '../read-model/queries.js';
import { readCheckpoint } from '../read-model/schema.js';

interface AccountState {
  readonly accountId: string;
  readonly accrual: AccountAccrual;
  sessionCount: number;
  activeSeq: number | null;
  lastEventAt: number | null;
  streamRevision: bigint | null;
  position: bigint;
  /** The active session changed since the last flush. */
  activeChanged: boolean;
  /** Sessions that ended (or were left open by a new start) since the last flush, final state. */
  ended: { seq: number; session: SessionAccrual }[] | null;
  /** Adjustments applied since the last flush, keyed in the table by their stream revision. */
  adjusted: { revision: bigint; position: bigint; data: BalanceAdjustedData; actor: Actor }[] | null;
  dirty: boolean;
}

/** Another writer advanced the checkpoint under us: our unflushed state is void; start again from it. */
export class CheckpointMovedError extends Error {
  override readonly name = 'CheckpointMovedError';
  constructor(readonly expected: bigint, readonly actual: bigint) {
    super(`read-model checkpoint moved from ${expected} to ${actual} under this projector`);
  }
}

export interface ProjectionEngine {
  /** Folds events in memory; those at or below the applied position are redeliveries and skipped. */
  apply(events: readonly MiningRecord[]): number;
  /** Writes changed accounts, sessions and the checkpoint in one transaction. */
  flush(): void;
  /** Drops cached and unflushed state and re-reads the checkpoint (after a CheckpointMovedError). */
  reset(): void;
  appliedPosition(): bigint;
  flushedPosition(): bigint;
  /** Events applied in memory but not yet flushed. */
  pendingEvents(): number;
  /** Events the read model holds in total (the checkpoint's count plus pending). */
  totalEvents(): bigint;
}

export interface EngineOptions {
  /** Accounts kept in memory between flushes. */
  cacheLimit?: number;
  /** Check inside each flush that nobody else moved the checkpoint (several projectors on one file). */
  guardCheckpoint?: boolean;
}

const NO_SESSION_LIST: AccrualOptions = { keepSessions: false };

/**
 * The event's time, read back from the session the fold just moved (parsing the timestamp again
 * costs more than the rest of the fold); an event the fold ignored is parsed.
 */
function timeOf(event: MiningEvent, ledger: SessionLedger | null): number {
  const session = ledger?.session;
  if (session && event.type !== 'BalanceAdjusted' && session.sessionId === event.data.sessionId) {
    if (event.type === 'MiningStarted') return session.startedAt;
    if (event.type === 'MiningStopped' && session.stoppedAt !== null) return session.stoppedAt;
    if (event.type === 'Heartbeat' && session.lastHeartbeatAt !== null) return session.lastHeartbeatAt;
  }
  return parseIso(event.data.at)!;
}

export function createEngine(db: Database.Database, options: EngineOptions = {}): ProjectionEngine {
  const cacheLimit = options.cacheLimit ?? 100_000;
  const guard = options.guardCheckpoint ?? true;
  const accountStmt = db.prepare<[string], AccountRow>('SELECT * FROM accounts WHERE account_id = ?');
  const sessionStmt = db.prepare<[string, number], SessionRow>('SELECT * FROM sessions WHERE account_id = ? AND seq = ?');
  const checkpointStmt = db.prepare<[], { position: bigint }>('SELECT position FROM checkpoint WHERE id = 1');
  const writeAccount = db.prepare(`INSERT OR REPLACE INTO accounts(account_id, balance_units, credited_ms, mining, active_seq,
    session_count, last_event_at, stream_revision, position, events) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const writeSession = db.prepare(`INSERT OR REPLACE INTO sessions(account_id, seq, session_id, started_at, rate_units_per_hour,
    heartbeat_timeout_ms, max_session_ms, last_presence_at, last_heartbeat_at, heartbeats, credited_ms, stopped_at, reason,
    earned_units) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const writeAdjustment = db.prepare(`INSERT OR REPLACE INTO adjustments(account_id, seq, adjustment_id, at, amount_units, reason,
    note, reference, actor_kind, actor_id, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const writeCheckpoint = db.prepare('UPDATE checkpoint SET position = ?, events = ? WHERE id = 1');

  const cache = new Map<string, AccountState>();
  let dirty: AccountState[] = [];
  let flushed = 0n;
  let applied = 0n;
  let flushedEvents = 0n;
  let pendingCount = 0;

  function reset(): void {
    cache.clear();
    dirty = [];
    pendingCount = 0;
    const checkpoint = readCheckpoint(db);
    flushed = applied = checkpoint.position;
    flushedEvents = checkpoint.events;
  }
  reset();

  function load(accountId: string): AccountState {
    const row = accountStmt.get(accountId);
    const activeRow = row?.active_seq == null ? undefined : sessionStmt.get(accountId, Number(row.active_seq));
    const accrual: AccountAccrual = {
      sessions: [],
      active: activeRow ? { session: sessionOfRow(activeRow), intervals: [] } : null,
      balanceUnits: row?.balance_units ?? 0n,
      creditedMs: row ? Number(row.credited_ms) : 0,
      events: row ? Number(row.events) : 0,
      ignored: 0,
    };
    return {
      accountId, accrual,
      sessionCount: row ? Number(row.session_count) : 0,
      activeSeq: activeRow ? Number(activeRow.seq) : null,
      lastEventAt: row?.last_event_at == null ? null : Number(row.last_event_at),
      streamRevision: row?.stream_revision ?? null,
      position: row?.position ?? 0n,
      activeChanged: false,
      ended: null,
      adjusted: null,
      dirty: false,
    };
  }

  function applyOne(recorded: MiningRecord): void {
    // Keyed by stream name: a hit needs neither the account-id check nor a slice.
    let state = cache.get(recorded.stream);
    if (!state) {
      const accountId = accountOf(recorded.stream);
      if (accountId === undefined) return;
      cache.set(recorded.stream, (state = load(accountId)));
    } else if (!state.dirty) {
      // Least recently used first: an account's first event since the last flush moves it to the
      // young end. Once per flush window, not per event (a Map re-insert per heartbeat measured slower),
      // and exact enough: eviction only runs after a flush.
      cache.delete(recorded.stream);
      cache.set(recorded.stream, state);
    }
    const { event, metadata } = recorded;
    if (event.type === 'BalanceAdjusted') {
      (state.adjusted ??= []).push({ revision: recorded.revision, position: recorded.position, data: event.data, actor: metadata.actor });
    }
    const ledger = state.accrual.active;
    const before = ledger?.session;
    applyEvent(state.accrual, event, NO_SESSION_LIST);
    if (event.type === 'MiningStarted') {
      if (ledger && state.activeSeq !== null) (state.ended ??= []).push({ seq: state.activeSeq, session: ledger.session });
      state.activeSeq = ++state.sessionCount;
      state.activeChanged = true;
    } else if (ledger && ledger.session !== before) {
      if (state.accrual.active === null) {
        (state.ended ??= []).push({ seq: state.activeSeq!, session: ledger.session });
        state.activeSeq = null;
        state.activeChanged = false;
      } else {
        state.activeChanged = true;
      }
    }
    state.lastEventAt = timeOf(event, state.accrual.active ?? ledger);
    state.streamRevision = recorded.revision;
    state.position = recorded.position;
    if (!state.dirty) {
      state.dirty = true;
      dirty.push(state);
    }
  }

  function writeSessionRow(accountId: string, seq: number, s: SessionAccrual): void {
    writeSession.run(
      accountId, seq, s.sessionId, s.startedAt, s.rateUnitsPerHour, s.heartbeatTimeoutMs, s.maxSessionMs,
      s.lastPresenceAt, s.lastHeartbeatAt, s.heartbeats, s.creditedMs, s.stoppedAt, s.reason, sessionEarnedUnits(s),
    );
  }

  function writeState(state: AccountState): void {
    const a = state.accrual;
    writeAccount.run(
      state.accountId, a.balanceUnits, a.creditedMs, a.active ? 1 : 0, state.activeSeq, state.sessionCount,
      state.lastEventAt, state.streamRevision, state.position, a.events,
    );
    if (state.ended) {
      for (const { seq, session } of state.ended) writeSessionRow(state.accountId, seq, session);
      state.ended = null;
    }
    if (state.adjusted) {
      for (const { revision, position, data, actor } of state.adjusted) {
        writeAdjustment.run(
          state.accountId, revision, data.adjustmentId, parseIso(data.at)!, BigInt(data.amountUnits), data.reason, data.note,
          data.reference ?? null, actor.kind, actor.id, position,
        );
      }
      state.adjusted = null;
    }
    if (state.activeChanged && a.active) writeSessionRow(state.accountId, state.activeSeq!, a.active.session);
    state.activeChanged = false;
    state.dirty = false;
  }

  const flushTransaction = db.transaction(() => {
    if (guard) {
      const actual = checkpointStmt.get()?.position ?? 0n;
      if (actual !== flushed) throw new CheckpointMovedError(flushed, actual);
    }
    for (const state of dirty) writeState(state);
    writeCheckpoint.run(applied, flushedEvents + BigInt(pendingCount));
  });

  /** Drops the least recently used accounts (Map order, see applyOne); all are clean after a flush. */
  function evict(): void {
    if (cache.size <= cacheLimit) return;
    const target = Math.floor(cacheLimit * 0.9);
    for (const stream of cache.keys()) {
      if (cache.size <= target) break;
      cache.delete(stream);
    }
  }

  return {
    apply(events) {
      let count = 0;
      for (const recorded of events) {
        if (recorded.position <= applied) continue;
        applyOne(recorded);
        applied = recorded.position;
        count++;
      }
      pendingCount += count;
      return count;
    },
    flush() {
      if (applied === flushed) return;
      try {
        flushTransaction.immediate();
      } catch (error) {
        // Nothing was written; cached state may be half-marked clean, so start again from the file.
        reset();
        throw error;
      }
      dirty = [];
      flushed = applied;
      flushedEvents += BigInt(pendingCount);
      pendingCount = 0;
      evict();
    },
    reset,
    appliedPosition: () => applied,
    flushedPosition: () => flushed,
    pendingEvents: () => pendingCount,
    totalEvents: () => flushedEvents + BigInt(pendingCount),
  };
}
