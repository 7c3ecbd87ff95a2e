// The auditor's ledger (SPEC §4) as GET …/audit answers it. Every level lets further fields
// through, so the answer stays the ledger verbatim even as src/projections/ledger/audit.ts grows.
import { Type } from '@sinclair/typebox';
import { nullable } from './schemas.js';

const open = { additionalProperties: true } as const;

const LedgerInterval = Type.Object(
  {
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time', description: 'the heartbeat or user stop that ends it, or the deadline' }),
    ms: Type.Integer(),
    credited: Type.Boolean(),
    creditedMs: Type.Integer({ description: 'less than ms when the maximum session length clips it' }),
    why: Type.String(),
  },
  open,
);

const LedgerSession = Type.Object(
  {
    sessionId: Type.String(),
    startedAt: Type.String({ format: 'date-time' }),
    stoppedAt: nullable(Type.String({ format: 'date-time' })),
    reason: nullable(Type.String()),
    ratePerHour: Type.String(),
    heartbeatTimeoutMs: Type.Integer(),
    maxSessionMs: Type.Integer(),
    creditedMs: Type.Integer(),
    earnedUnits: Type.String(),
    intervals: Type.Array(LedgerInterval),
  },
  open,
);

export const AuditLedger = Type.Object(
  {
    accountId: Type.String(),
    streamRevision: nullable(Type.String()),
    events: Type.Integer(),
    sessions: Type.Array(LedgerSession, { description: 'oldest first' }),
    adjustments: Type.Optional(Type.Array(Type.Object({
      adjustmentId: Type.String(),
      at: Type.String({ format: 'date-time' }),
      amount: Type.String(),
      amountUnits: Type.String(),
      reason: Type.String(),
      note: Type.String(),
      reference: nullable(Type.String()),
      actor: nullable(Type.Object({ kind: Type.String(), id: Type.String() }, open)),
    }, open), { description: 'BalanceAdjusted, oldest first (SPEC §10)' })),
    adjustedUnits: Type.Optional(Type.String({ description: 'Σ adjustments, included in the balances' })),
    replayedBalanceUnits: Type.String(),
    projectedBalanceUnits: Type.String(),
    matches: Type.Boolean(),
  },
  { ...open, description: "the account's ledger replayed from its stream, set beside the projection" },
);
