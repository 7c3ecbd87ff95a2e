// What the read models answer. The projector keeps them; the API, `replay` and `verify` read them.
import type { Actor, AdjustmentReason } from '../../domain/events.js';
import type { SessionAccrual } from '../../domain/session.js';

export interface AccountView {
  accountId: string;
  balanceUnits: bigint;
  creditedMs: number;
  /** The session the projection holds as active (it may already be past its deadline). */
  active: SessionAccrual | null;
  lastEventAt: number | null;
  streamRevision: bigint | null;
  /** Global position of the account's last event that the read model has applied. */
  position: bigint;
}

export interface SessionPage {
  /** Newest first. */
  sessions: SessionAccrual[];
  /** Opaque; pass back to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** One BalanceAdjusted as the read model holds it (SPEC §10). */
export interface AdjustmentView {
  adjustmentId: string;
  accountId: string;
  at: number;
  amountUnits: bigint;
  reason: AdjustmentReason;
  note: string;
  reference: string | null;
  actor: Actor;
  position: bigint;
}

export interface AdjustmentPage {
  /** Newest first. */
  adjustments: AdjustmentView[];
  nextCursor: string | null;
}

export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

/** The read model cannot be trusted now (e.g. its checkpoint is past the store's head): answer 503. */
export class ReadModelUnavailableError extends Error {
  override readonly name = 'ReadModelUnavailableError';
}

export interface ReadModel {
  /** Why the read model must not be served now, or null when it may; absent: always servable. */
  problem?(): string | null;
  account(accountId: string): AccountView | null;
  /** Throws InvalidCursorError for a cursor it did not issue. */
  sessions(accountId: string, options: { limit: number; cursor?: string | undefined }): SessionPage;
  /** The account's adjustments, newest first; throws InvalidCursorError for a cursor it did not issue. */
  adjustments(accountId: string, options: { limit: number; cursor?: string | undefined }): AdjustmentPage;
  /** Active sessions in account order, for building the sweeper's deadline index. */
  activeSessions(options: { afterAccountId?: string; limit: number }): SessionAccrual[];
  /** Global position the read model has applied up to (its checkpoint; 0n when empty). */
  position(): bigint;
  /** Resolves true once position() >= target, false after timeoutMs. */
  waitForPosition(target: bigint, timeoutMs: number): Promise<boolean>;
  close(): void;
}
