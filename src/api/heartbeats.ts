// POST /v1/heartbeats (SPEC §9): a gateway's batch of heartbeats, each the same command as the single
// route. The body is checked as a whole before anything runs; then every item is rate-limited in
// request order and handed to the command handler at once, so items of one account queue behind each
// other (the handler's keyed queue) and the whole batch reaches the store as one group commit. The
// answer waits for every item: whatever it reports as written has been fsynced.
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyRequest } from 'fastify';
import type { CommandHandler, CommandResult } from '../commands/handler.js';
import { ACCOUNT_ID_PATTERN } from '../domain/events.js';
import { actorOf, type Principal, type TokenVerifier } from './auth.js';
import { ApiError, toApiError, type ErrorCode } from './errors.js';
import type { ApiMetrics } from './metrics.js';
import type { RateLimiter } from './rate-limit.js';
import { errorResponses, PositionString, Session } from './schemas.js';
import { sessionView } from './views.js';

export interface HeartbeatsRoutesOptions {
  handler: CommandHandler;
  verifier: TokenVerifier;
  clock: { now(): number };
  heartbeatIntervalMs: number;
  limiter: RateLimiter;
  metrics: ApiMetrics;
}

/** SPEC §9: 1 to 1,000 items per request. */
export const MAX_BULK_HEARTBEATS = 1000;
// The largest valid body is ~205 bytes an item (a 128-character account id and a session id); twice
// that leaves room for whitespace. Larger is 413 PAYLOAD_TOO_LARGE before any parsing.
const BULK_BODY_LIMIT = 1000 * 420;

const Uuid = Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' });
const BulkItem = Type.Object(
  {
    accountId: Type.String({ pattern: ACCOUNT_ID_PATTERN }),
    sessionId: Type.Optional({ ...Uuid, description: 'when given, must be the active session' }),
  },
  { additionalProperties: false },
);
const BulkBody = Type.Object(
  { heartbeats: Type.Array(BulkItem, { minItems: 1, maxItems: MAX_BULK_HEARTBEATS }) },
  { additionalProperties: false },
);
const BulkResult = Type.Object(
  {
    accountId: Type.String(),
    status: Type.Integer({ description: 'what the single heartbeat route would have answered: 200, 409, 429, 503' }),
    code: Type.Optional(Type.String({ description: 'NOT_MINING, SESSION_EXPIRED, SESSION_MISMATCH, RATE_LIMITED, UNAVAILABLE' })),
    recorded: Type.Optional(Type.Boolean({ description: 'on 200: false when coalesced under MIN_HEARTBEAT_INTERVAL_MS' })),
    session: Type.Optional(Session),
    position: Type.Optional(PositionString),
    retryAfter: Type.Optional(Type.Integer({ description: 'on 429 and 503: seconds before this item is worth sending again' })),
  },
  { title: 'BulkHeartbeatResult' },
);
type BulkResult = Static<typeof BulkResult>;
const BulkAnswer = Type.Object({ results: Type.Array(BulkResult, { description: 'one per item, in request order' }) });

/**
 * The app's Ajv coerces types (for query strings), which would take `accountId: 42` as "42". A
 * gateway's body is checked strictly: a wrong type is a broken schema like any other.
 */
function strictValidator({ schema }: { schema: unknown }) {
  const check = TypeCompiler.Compile(schema as TSchema);
  return (data: unknown) => {
    if (check.Check(data)) return { value: data };
    const first = check.Errors(data).First();
    return { error: new Error(first ? `body${first.path.replaceAll('/', '.')} ${first.message}` : 'body does not match the schema') };
  };
}

const GATEWAY_ROLES = new Set<Principal['role']>(['gateway', 'admin']);

export const heartbeatsRoutes: FastifyPluginCallbackTypebox<HeartbeatsRoutesOptions> = (app, options, done) => {
  const { handler, verifier, clock, heartbeatIntervalMs, limiter, metrics } = options;

  app.decorateRequest('principal', null);
  // Before the body is read: 401 for a bad token, 403 for a token that is not a gateway's.
  app.addHook('onRequest', (request, _reply, next) => {
    try {
      const principal = verifier.verify(request.headers.authorization, clock.now());
      if (!GATEWAY_ROLES.has(principal.role)) throw new ApiError(403, 'FORBIDDEN', 'only gateway and admin tokens may send heartbeats in bulk');
      request.principal = principal;
      next();
    } catch (error) {
      next(error as Error);
    }
  });

  function outcome(accountId: string, result: CommandResult): BulkResult {
    const position = result.position.toString();
    const session = result.session ? sessionView(result.session, heartbeatIntervalMs) : undefined;
    const error = result.decision.error;
    if (error) return session ? { accountId, status: 409, code: error, session, position } : { accountId, status: 409, code: error, position };
    return { accountId, status: 200, recorded: result.decision.recorded === true, session: session!, position };
  }

  function failure(accountId: string, error: unknown, request: FastifyRequest): BulkResult {
    const apiError = toApiError(error);
    if (apiError.code === 'INTERNAL') request.log.error({ err: error, accountId }, 'bulk heartbeat item failed');
    return refused(accountId, apiError.statusCode, apiError.code, apiError.retryAfter);
  }

  const refused = (accountId: string, status: number, code: ErrorCode, retryAfter: number | undefined): BulkResult =>
    retryAfter === undefined ? { accountId, status, code } : { accountId, status, code, retryAfter };

  app.post('/heartbeats', {
    bodyLimit: BULK_BODY_LIMIT,
    validatorCompiler: strictValidator,
    schema: {
      body: BulkBody,
      security: [{ bearerAuth: [] }],
      tags: ['mining'],
      summary: `Heartbeats of many accounts (gateway, admin): 1 to ${MAX_BULK_HEARTBEATS} items, one result each, in order`,
      response: { 200: BulkAnswer, ...errorResponses },
    },
  }, async (request) => {
    const items = request.body.heartbeats;
    const context = { actor: actorOf(request.principal as Principal), correlationId: request.id };
    // All items are queued in this turn, in request order: the keyed queue keeps one account's in order.
    const pending = items.map(({ accountId, sessionId }) => {
      const retryAfter = limiter.take(accountId);
      if (retryAfter !== 0) {
        metrics.bulkItem('RATE_LIMITED');
        return refused(accountId, 429, 'RATE_LIMITED', retryAfter);
      }
      return handler.execute(accountId, { type: 'heartbeat', sessionId: sessionId?.toLowerCase() }, context).then(
        (result) => {
          metrics.command('heartbeat', result);
          metrics.bulkItem(result.decision.error ?? 'ok');
          return outcome(accountId, result);
        },
        (error: unknown) => {
          const answer = failure(accountId, error, request);
          metrics.bulkItem(answer.code ?? 'INTERNAL');
          return answer;
        },
      );
    });
    return { results: await Promise.all(pending) };
  });

  done();
};
