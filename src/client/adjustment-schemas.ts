// SPEC §10's adjustment routes (POST/GET /v1/accounts/:accountId/adjustments) as TypeBox schemas, so
// the client's types are `Static<>` of a schema like every other route's. The routes are another change
// (issue 12, src/api/adjustments.ts); these mirror its shapes. When it lands, move its body and answer
// schemas into a Fastify-free module (as src/api/answers.ts) and import them in src/client/types.ts;
// this file then goes. Only types are taken from here: the client bundle carries no TypeBox.
import { Type } from '@sinclair/typebox';
import { nullable, TokenAmount, Units } from '../api/schemas.js';

const Uuid = Type.String({ format: 'uuid' });
const SignedTokenAmount = Type.String({ pattern: '^-?(0|[1-9][0-9]*)(\\.[0-9]{1,8})?$', description: 'a signed token amount, up to 8 fraction digits' });
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
  actor: nullable(Type.Object({ kind: Type.String(), id: Type.String() })),
});

export const AdjustmentAnswer = Type.Object({
  accountId: Type.String(),
  adjustment: Adjustment,
  balance: TokenAmount,
  balanceUnits: Units,
  position: Type.String(),
});

export const AdjustmentsAnswer = Type.Object({
  adjustments: Type.Array(Adjustment, { description: 'newest first' }),
  nextCursor: nullable(Type.String({ description: 'pass as ?cursor= for the next page; null on the last page' })),
});
