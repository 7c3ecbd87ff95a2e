// POST …/mining/start | heartbeat | stop: through the command handler, answered from its result
// (the handler caches decision state, so a heartbeat reads no stream).
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { CommandHandler, CommandRequest, CommandResult } from '../commands/handler.js';
import type { DomainErrorCode } from '../domain/decider.js';
import { toIso } from '../domain/time.js';
import { actorOf, type Principal } from './auth.js';
import { ApiError } from './errors.js';
import type { ApiMetrics } from './metrics.js';
import type { RateLimiter } from './rate-limit.js';
import { HeartbeatAnswer, SessionAnswer } from './answers.js';
import { AccountParams, errorResponses } from './schemas.js';
import { sessionView } from './views.js';

export interface MiningRoutesOptions {
  handler: CommandHandler;
  heartbeatIntervalMs: number;
  limiter: RateLimiter;
  metrics: ApiMetrics;
}

const Uuid = Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' });
/** start and stop take no fields; an empty object or no body at all. */
const NoFields = Type.Object({}, { additionalProperties: false, description: 'optional; no fields' });
const NoQuery = Type.Object({}, { additionalProperties: false });
const HeartbeatBody = Type.Object(
  { sessionId: Type.Optional({ ...Uuid, description: 'when given, must be the active session' }) },
  { additionalProperties: false, description: 'optional' },
);

function domainError(code: DomainErrorCode, result: CommandResult): ApiError {
  switch (code) {
    case 'NOT_MINING':
      return new ApiError(409, code, `account ${result.accountId} is not mining`);
    case 'SESSION_EXPIRED': {
      const stoppedAt = result.session?.stoppedAt;
      const at = stoppedAt === null || stoppedAt === undefined ? '' : ` at ${toIso(stoppedAt)}`;
      return new ApiError(409, code, `the session had ended${at} (no heartbeat within the timeout); it has been stopped`);
    }
    case 'SESSION_MISMATCH':
      return new ApiError(409, code, 'sessionId is not the active session of this account');
  }
}

const bodyless = (request: FastifyRequest, _reply: unknown, done: () => void) => {
  // A command without a body is the same as an empty JSON object.
  if (request.body === undefined) request.body = {};
  done();
};

export const miningRoutes: FastifyPluginCallbackTypebox<MiningRoutesOptions> = (app, options, done) => {
  const { handler, heartbeatIntervalMs, limiter, metrics } = options;

  app.addHook('preValidation', bodyless);
  // After validation, before the domain: only well-formed commands spend the account's budget.
  app.addHook('preHandler', (request, reply, next) => {
    const retryAfter = limiter.take((request.params as AccountParams).accountId);
    if (retryAfter === 0) return next();
    const url = request.routeOptions.url ?? '';
    metrics.rateLimited(url.slice(url.lastIndexOf('/') + 1));
    next(new ApiError(429, 'RATE_LIMITED', `more than the allowed commands per minute for this account; retry in ${retryAfter} s`, retryAfter));
  });

  async function run(request: FastifyRequest, command: CommandRequest): Promise<CommandResult> {
    const { accountId } = request.params as AccountParams;
    const context = { actor: actorOf(request.principal as Principal), correlationId: request.id };
    const result = await handler.execute(accountId, command, context);
    metrics.command(command.type, result);
    if (result.decision.error) throw domainError(result.decision.error, result);
    return result;
  }

  const answer = (result: CommandResult) => ({
    accountId: result.accountId,
    session: sessionView(result.session!, heartbeatIntervalMs),
    position: result.position.toString(),
  });

  // Commands take no query parameters; an unknown one is refused as on the reads.
  const common = { params: AccountParams, querystring: NoQuery, security: [{ bearerAuth: [] }], tags: ['mining'] };

  app.post('/start', {
    config: { access: 'command' },
    schema: {
      ...common, body: NoFields,
      summary: 'Start mining (idempotent: an active session is returned as it is)',
      response: { 200: SessionAnswer, 201: SessionAnswer, ...errorResponses },
    },
  }, async (request, reply) => {
    const result = await run(request, { type: 'start' });
    return reply.code(result.decision.created ? 201 : 200).send(answer(result));
  });

  app.post('/heartbeat', {
    config: { access: 'command' },
    schema: {
      ...common, body: HeartbeatBody,
      summary: 'Record presence; a late heartbeat stops the session at its deadline and fails with SESSION_EXPIRED',
      response: { 200: HeartbeatAnswer, ...errorResponses },
    },
  }, async (request) => {
    const result = await run(request, { type: 'heartbeat', sessionId: request.body.sessionId?.toLowerCase() });
    return { ...answer(result), recorded: result.decision.recorded === true };
  });

  app.post('/stop', {
    config: { access: 'command' },
    schema: {
      ...common, body: NoFields,
      summary: 'Stop mining; a session already past its deadline is stopped at the deadline',
      response: { 200: SessionAnswer, ...errorResponses },
    },
  }, async (request) => answer(await run(request, { type: 'stop' })));

  done();
};
