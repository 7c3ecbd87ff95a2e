// The answers (and the adjustment request) of the mining, account and adjustment routes, in a module of their own (TypeBox only, no Fastify)
// so the app client (src/client/types.ts) derives its types from exactly what the routes serialize.
import { Type } from '@sinclair/typebox';
import { ADJUSTMENT_REASONS, NOTE_MAX_LENGTH, REFERENCE_MAX_LENGTH } from '../domain/events.js';
import { nullable, PositionString, Session, TokenAmount, Units } from './schemas.js';

export const SessionAnswer = Type.Object({ accountId: Type.String(), session: Session, position: PositionString });

export const HeartbeatAnswer = Type.Object({
  accountId: Type.String(),
  session: Session,
  recorded: Type.Boolean({ description: 'false when coalesced under MIN_HEARTBEAT_INTERVAL_MS' }),
  position: PositionString,
});

export const AccountAnswer = Type.Object({
  accountId: Type.String(),
  balance: TokenAmount,
  balanceUnits: Units,
  creditedMs: Type.Integer({ minimum: 0 }),
  mining: Type.Boolean({ description: 'a session is active and not past its deadline now' }),
  session: nullable(Session),
  position: PositionString,
});

export const SessionsAnswer = Type.Object({
  sessions: Type.Array(Session, { description: 'newest first' }),
  nextCursor: nullable(Type.String({ description: 'pass as ?cursor= for the next page; null on the last page' })),
});

// SPEC §10's adjustment routes (src/api/adjustments.ts).
const SignedTokens = Type.String({ pattern: '^-?[0-9]+\\.[0-9]{8}$', description: 'signed tokens, exactly 8 fraction digits' });
const SignedUnits = Type.String({ pattern: '^-?[0-9]+$', description: 'signed base units, an integer string' });
const Reason = Type.String({ enum: [...ADJUSTMENT_REASONS] });

export const Adjustment = Type.Object(
  {
    adjustmentId: Type.String({ format: 'uuid' }),
    at: Type.String({ format: 'date-time' }),
    amount: SignedTokens,
    amountUnits: SignedUnits,
    reason: Reason,
    note: Type.String(),
    reference: nullable(Type.String()),
    actor: nullable(Type.Object({ kind: Type.String(), id: Type.String() })),
  },
  { title: 'Adjustment' },
);

export const AdjustmentRequest = Type.Object(
  {
    adjustmentId: Type.String({
      pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
      description: 'chosen by the caller; a repeat with the same content is answered as the original',
    }),
    amount: Type.String({
      pattern: '^-?(0|[1-9][0-9]*)(\\.[0-9]{1,8})?$', maxLength: 40,
      description: 'signed tokens with up to 8 fraction digits, e.g. "-7.64"; never zero',
    }),
    reason: Reason,
    note: Type.String({ minLength: 1, maxLength: NOTE_MAX_LENGTH, pattern: '\\S', description: 'why, for the auditor' }),
    reference: Type.Optional(Type.String({ minLength: 1, maxLength: REFERENCE_MAX_LENGTH, description: 'a ticket, an incident, a row' })),
  },
  { additionalProperties: false },
);
export const AdjustmentAnswer = Type.Object({
  accountId: Type.String(),
  adjustment: Adjustment,
  balance: TokenAmount,
  balanceUnits: Units,
  position: PositionString,
});
export const AdjustmentsAnswer = Type.Object({
  adjustments: Type.Array(Adjustment, { description: 'newest first' }),
  nextCursor: nullable(Type.String({ description: 'pass as ?cursor= for the next page; null on the last page' })),
});
