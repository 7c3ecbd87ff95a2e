// POST …/adjustments (admin) and GET …/adjustments (SPEC §10): balance corrections as events.
// The write goes through the adjuster (the pure adjust decision); the read comes from the read model.
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { Adjuster, AdjustResult } from '../commands/adjust.js';
import type { AdjustmentReason } from '../domain/events.js';
import { formatTokens, MoneyError, parseAdjustmentAmount } from '../domain/money.js';
import { parseIso } from '../domain/time.js';
import { adjustmentJson } from '../projections/ledger/audit.js';
import { InvalidCursorError, type ReadModel } from '../projections/read-model/read-model.js';
import type { EventStore } from '../store/port.js';
import { actorOf, type Principal } from './auth.js';
import { ApiError } from './errors.js';
import { readWaiter } from './read-wait.js';
import { AdjustmentAnswer, AdjustmentRequest, AdjustmentsAnswer } from './answers.js';
import { AccountParams, errorResponses, ReadQuery } from './schemas.js';

export interface AdjustmentRoutesOptions {
  adjuster: Adjuster;
  store: EventStore;
  readModel: ReadModel;
  readWaitMs: number;
}

const ListQuery = Type.Object(
  {
    ...ReadQuery.properties,
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);
const NoQuery = Type.Object({}, { additionalProperties: false });

// The API coerces types for query strings; a body's amount or note must be a JSON string, not 1e3.
const STRING_FIELDS = ['adjustmentId', 'amount', 'reason', 'note', 'reference'] as const;
function stringsOnly(request: FastifyRequest, _reply: unknown, done: (error?: Error) => void): void {
  const body = request.body as Record<string, unknown> | null | undefined;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    for (const field of STRING_FIELDS) {
      if (field in body && typeof body[field] !== 'string') {
        return done(new ApiError(400, 'VALIDATION_FAILED', `body/${field} must be a string`));
      }
    }
  }
  done();
}

function refusal(result: AdjustResult): ApiError | undefined {
  const balance = formatTokens(result.decision.balanceUnits);
  switch (result.decision.error) {
    case undefined:
      return undefined;
    case 'ADJUSTMENT_CONFLICT':
      return new ApiError(409, 'ADJUSTMENT_CONFLICT', `adjustment ${result.decision.adjustment?.adjustmentId} already exists with other content`);
    case 'INSUFFICIENT_BALANCE':
      return new ApiError(409, 'INSUFFICIENT_BALANCE', `the balance of ${result.accountId} is ${balance}; the adjustment would take it below zero`);
    case 'BALANCE_TOO_LARGE':
      return new ApiError(409, 'BALANCE_TOO_LARGE', `the balance of ${result.accountId} is ${balance}; the adjustment would take it beyond the largest amount`);
    case 'INVALID_AMOUNT':
      return new ApiError(400, 'VALIDATION_FAILED', 'amount must be non-zero and within the largest amount');
  }
}

export const adjustmentRoutes: FastifyPluginCallbackTypebox<AdjustmentRoutesOptions> = (app, options, done) => {
  const { adjuster, readModel } = options;
  const awaitPosition = readWaiter(options.store, readModel, options.readWaitMs);
  const common = { params: AccountParams, security: [{ bearerAuth: [] }], tags: ['adjustments'] };

  app.post('', {
    config: { access: 'admin' },
    preValidation: stringsOnly,
    schema: {
      ...common, querystring: NoQuery, body: AdjustmentRequest,
      summary: 'Adjust the balance (admin): 201 recorded, 200 the same adjustment again',
      response: { 200: AdjustmentAnswer, 201: AdjustmentAnswer, ...errorResponses },
    },
  }, async (request, reply) => {
    const { accountId } = request.params;
    const body = request.body;
    let amountUnits: bigint;
    try {
      amountUnits = parseAdjustmentAmount(body.amount);
    } catch (error) {
      if (error instanceof MoneyError) throw new ApiError(400, 'VALIDATION_FAILED', `body/amount: ${error.message}`);
      throw error;
    }
    const context = { actor: actorOf(request.principal as Principal), correlationId: request.id };
    const result = await adjuster.adjust(accountId, {
      adjustmentId: body.adjustmentId.toLowerCase(), amountUnits, reason: body.reason as AdjustmentReason, note: body.note,
      reference: body.reference,
    }, context);
    const error = refusal(result);
    if (error) throw error;
    const a = result.decision.adjustment!;
    const adjustment = adjustmentJson({
      adjustmentId: a.adjustmentId, at: parseIso(a.at)!, amountUnits: BigInt(a.amountUnits), reason: a.reason, note: a.note,
      reference: a.reference ?? null, actor: result.actor,
    });
    return reply.code(result.decision.created ? 201 : 200).send({
      accountId, adjustment,
      balance: formatTokens(result.decision.balanceUnits),
      balanceUnits: result.decision.balanceUnits.toString(),
      position: result.position.toString(),
    });
  });

  app.get('', {
    config: { access: 'read' },
    schema: { ...common, querystring: ListQuery, summary: 'Adjustments, newest first, paginated', response: { 200: AdjustmentsAnswer, ...errorResponses } },
  }, async (request) => {
    const { minPosition, limit, cursor } = request.query;
    await awaitPosition(minPosition);
    try {
      const page = readModel.adjustments(request.params.accountId, { limit: limit ?? 100, cursor });
      return { adjustments: page.adjustments.map(adjustmentJson), nextCursor: page.nextCursor };
    } catch (error) {
      if (error instanceof InvalidCursorError) throw new ApiError(400, 'VALIDATION_FAILED', 'cursor is not one this server issued');
      throw error;
    }
  });

  done();
};
