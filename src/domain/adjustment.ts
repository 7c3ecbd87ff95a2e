// The *adjust* decision (SPEC §10): a pure function of the account's balance, the adjustments it
// already holds, the command and the time. Corrections are events; balances change only through them.
import { applyEvent, emptyAccrual } from './accrual.js';
import { isoOf, type AdjustmentReason, type BalanceAdjustedData, type MiningEvent } from './events.js';
import { MAX_UNITS } from './money.js';
import { eventTimeOf } from './session-step.js';

export interface AdjustmentState {
  /** Time of the stream's last event: an adjustment is never dated before it. */
  readonly lastEventAt: number | null;
  /** Σ session earnings (the active session's so far) + Σ adjustments: what GET /v1/accounts/:id shows. */
  readonly balanceUnits: bigint;
  /** Every adjustment in the stream, by adjustmentId. */
  readonly adjustments: ReadonlyMap<string, BalanceAdjustedData>;
}

export interface AdjustCommand {
  type: 'adjust';
  accountId: string;
  now: number;
  adjustmentId: string;
  amountUnits: bigint;
  reason: AdjustmentReason;
  note: string;
  reference?: string | undefined;
}

export type AdjustErrorCode = 'ADJUSTMENT_CONFLICT' | 'INSUFFICIENT_BALANCE' | 'BALANCE_TOO_LARGE' | 'INVALID_AMOUNT';

export interface AdjustDecision {
  /** The BalanceAdjusted to record, or nothing (a repeat, or a refusal). */
  readonly events: MiningEvent[];
  readonly error?: AdjustErrorCode;
  /** The adjustment the answer is about: the new one, or the original of a repeat (null on a refusal). */
  readonly adjustment: BalanceAdjustedData | null;
  /** A new adjustment was decided (201), not a repeat (200). */
  readonly created: boolean;
  /** The balance once the decision is applied. */
  readonly balanceUnits: bigint;
}

/** A fold of one account's stream into the state *adjust* decides on; the balance is the accrual's own. */
export function adjustmentFold(): { apply(event: MiningEvent): void; state(): AdjustmentState } {
  const accrual = emptyAccrual();
  const adjustments = new Map<string, BalanceAdjustedData>();
  let lastEventAt: number | null = null;
  return {
    apply(event) {
      applyEvent(accrual, event, { keepSessions: false });
      const at = eventTimeOf(event);
      lastEventAt = lastEventAt === null ? at : Math.max(lastEventAt, at);
      if (event.type === 'BalanceAdjusted') adjustments.set(event.data.adjustmentId, event.data);
    },
    state: () => ({ lastEventAt, balanceUnits: accrual.balanceUnits, adjustments }),
  };
}

export function adjustmentStateOf(events: Iterable<MiningEvent>): AdjustmentState {
  const fold = adjustmentFold();
  for (const event of events) fold.apply(event);
  return fold.state();
}

/** Same amount, reason, note and reference: a repeat of the original, answered as it was. */
export function sameAdjustment(original: BalanceAdjustedData, command: AdjustCommand): boolean {
  return original.amountUnits === command.amountUnits.toString() && original.reason === command.reason &&
    original.note === command.note && (original.reference ?? null) === (command.reference ?? null) &&
    original.accountId === command.accountId;
}

export function decideAdjust(state: AdjustmentState, command: AdjustCommand): AdjustDecision {
  const balance = state.balanceUnits;
  const original = state.adjustments.get(command.adjustmentId);
  if (original) {
    if (!sameAdjustment(original, command)) return { events: [], error: 'ADJUSTMENT_CONFLICT', adjustment: original, created: false, balanceUnits: balance };
    return { events: [], adjustment: original, created: false, balanceUnits: balance };
  }
  const amount = command.amountUnits;
  if (amount === 0n || amount > MAX_UNITS || -amount > MAX_UNITS) {
    return { events: [], error: 'INVALID_AMOUNT', adjustment: null, created: false, balanceUnits: balance };
  }
  const after = balance + amount;
  if (after < 0n) return { events: [], error: 'INSUFFICIENT_BALANCE', adjustment: null, created: false, balanceUnits: balance };
  // Balances are stored as signed 64-bit integers everywhere; beyond that no store could hold them.
  if (after > MAX_UNITS) return { events: [], error: 'BALANCE_TOO_LARGE', adjustment: null, created: false, balanceUnits: balance };
  // Within a stream time never goes backwards.
  const now = state.lastEventAt === null ? command.now : Math.max(command.now, state.lastEventAt);
  const data: BalanceAdjustedData = {
    adjustmentId: command.adjustmentId,
    accountId: command.accountId,
    at: isoOf(now),
    amountUnits: amount.toString(),
    reason: command.reason,
    note: command.note,
    ...(command.reference === undefined ? {} : { reference: command.reference }),
  };
  return { events: [{ type: 'BalanceAdjusted', data }], adjustment: data, created: true, balanceUnits: after };
}
