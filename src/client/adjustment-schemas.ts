// SPEC §10's adjustment routes (POST/GET /v1/accounts/:accountId/adjustments) as TypeBox schemas, so
// the client's types are `Static<>` of a schema like every other route's. The routes themselves are
// another change (issue 12); when its schemas land, src/client/types.ts should import those instead
// and this file goes. Only types are taken from here: the client bundle carries no TypeBox.
import { Type } from '@sinclair/typebox';
import { nullable, TokenAmount, Units } from '../api/schemas.js';

const Uuid = Type.String({ format: 'uuid' });
const SignedTokenAmount = Type.String({ pattern: '^-?[0-9]+(\\.[0-9]{1,8})?$', description: 'a signed token amount, up to 8 fraction digits' });
const SignedUnits = Type.String({ pattern: '^-?[0-9]+$' });
const AdjustmentReason = Type.Union([Type.Literal('correction'), Type.Literal('migration'), Type.Literal('goodwill'), Type.Literal('reversal')]);

export const AdjustmentRequest = Type.Object(
  {
    adjustmentId: Uuid,
    amount: SignedTokenAmount,
    reason: AdjustmentReason,
    note: Type.String({ minLength: 1, maxLength: 500 }),
    reference: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const Adjustment = Type.Object({
  adjustmentId: Uuid,
  at: Type.String({ format: 'date-time' }),
  amount: Type.String({ pattern: '^-?[0-9]+\\.[0-9]{8}$' }),
  amountUnits: SignedUnits,
  reason: AdjustmentReason,
  note: Type.String(),
  reference: nullable(Type.String()),
  actor: Type.Object({ kind: Type.String(), id: Type.String() }),
});

export const AdjustmentAnswer = Type.Object({
  accountId: Type.String(),
  adjustment: Adjustment,
  balance: TokenAmount,
  balanceUnits: Units,
  position: Type.String(),
});

export const AdjustmentsAnswer = Type.Object({ adjustments: Type.Array(Adjustment, { description: 'newest first' }) });
