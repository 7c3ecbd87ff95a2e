// GET /v1/accounts/:accountId, …/sessions and …/audit: answered from the read model, with
// ?minPosition= to wait (bounded) until the read model has applied the client's own write.
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { AT_DESCRIPTION, parseAt, type AtPoint } from '../audit/at.js';
import type { Clock } from '../commands/clock.js';
import { formatTokens } from '../domain/money.js';
import { isExpired } from '../domain/session.js';
import { PassThrough } from 'node:stream';
import { AuditAbortedError, ProjectionLagError, type LedgerStream } from '../projections/ledger/audit.js';
import { InvalidCursorError, type ReadModel } from '../projections/read-model/read-model.js';
import type { EventStore } from '../store/port.js';
import { ApiError, UNAVAILABLE_RETRY_AFTER_S } from './errors.js';
import type { RateLimiter } from './rate-limit.js';
import { AuditLedger } from './ledger-schema.js';
import { AccountAnswer, SessionsAnswer } from './answers.js';
import { AccountParams, errorResponses, ReadQuery } from './schemas.js';
import { sessionView } from './views.js';

export interface AccountRoutesOptions {
  store: EventStore;
  readModel: ReadModel;
  clock: Clock;
  heartbeatIntervalMs: number;
  /** The auditor's ledger of one account, JSON-ready (src/projections/ledger/audit.ts). */
  audit: (accountId: string, query?: { at?: AtPoint }) => Promise<unknown>;
  /** Audits running at once in this process (AUDIT_CONCURRENCY); a further one is 503. Default 2. */
  auditConcurrency?: number;
  /** The account's command budget; an audit counts against it. */
  limiter?: RateLimiter;
  /** How long ?minPosition= may wait; SPEC: 2 s. */
  readWaitMs: number;
}

const SessionsQuery = Type.Object(
  {
    ...ReadQuery.properties,
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);
const AuditQuery = Type.Object(
  { ...ReadQuery.properties, at: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: `the ledger as the store held it then: ${AT_DESCRIPTION}` })) },
  { additionalProperties: false },
);
function isLedgerStream(value: unknown): value is LedgerStream {
  return typeof (value as Partial<LedgerStream> | null)?.write === 'function';
}

export const accountRoutes: FastifyPluginCallbackTypebox<AccountRoutesOptions> = (app, options, done) => {
  const { store, readModel, clock, heartbeatIntervalMs, readWaitMs } = options;
  const auditConcurrency = options.auditConcurrency ?? 2;
  let auditsRunning = 0;

  /** Read-your-writes: wait until the read model has applied `minPosition`. */
  async function awaitPosition(minPosition: string | undefined): Promise<void> {
    if (minPosition === undefined) return;
    const target = BigInt(minPosition);
    if (readModel.position() >= target) return;
    const head = await store.headPosition();
    if (target > (head === 'start' ? 0n : head)) {
      throw new ApiError(400, 'VALIDATION_FAILED', `minPosition ${target} lies beyond the store's last position ${head === 'start' ? 0 : head}`);
    }
    if (!(await readModel.waitForPosition(target, readWaitMs))) {
      throw new ApiError(503, 'UNAVAILABLE', `the read model has not reached position ${target} within ${readWaitMs} ms`, 1);
    }
  }

  const common = { params: AccountParams, security: [{ bearerAuth: [] }], tags: ['accounts'] };
  app.get('', {
    config: { access: 'read' },
    schema: { ...common, querystring: ReadQuery, summary: 'Balance and the active session', response: { 200: AccountAnswer, ...errorResponses } },
  }, async (request) => {
    await awaitPosition(request.query.minPosition);
    const { accountId } = request.params;
    const view = readModel.account(accountId);
    if (view === null) {
      return { accountId, balance: formatTokens(0n), balanceUnits: '0', creditedMs: 0, mining: false, session: null, position: '0' };
    }
    const active = view.active;
    return {
      accountId,
      balance: formatTokens(view.balanceUnits),
      balanceUnits: view.balanceUnits.toString(),
      creditedMs: view.creditedMs,
      mining: active !== null && !isExpired(active, clock.now()),
      session: active === null ? null : sessionView(active, heartbeatIntervalMs),
      position: view.position.toString(),
    };
  });

  app.get('/sessions', {
    config: { access: 'read' },
    schema: { ...common, querystring: SessionsQuery, summary: 'Sessions, newest first, paginated', response: { 200: SessionsAnswer, ...errorResponses } },
  }, async (request) => {
    const { minPosition, limit, cursor } = request.query;
    await awaitPosition(minPosition);
    try {
      const page = readModel.sessions(request.params.accountId, { limit: limit ?? 20, cursor });
      return { sessions: page.sessions.map((s) => sessionView(s, heartbeatIntervalMs)), nextCursor: page.nextCursor };
    } catch (error) {
      if (error instanceof InvalidCursorError) throw new ApiError(400, 'VALIDATION_FAILED', 'cursor is not one this server issued');
      throw error;
    }
  });

  app.get('/audit', {
    config: { access: 'read' },
    schema: { ...common, querystring: AuditQuery, summary: "The auditor's ledger, replayed from the account's stream", response: { 200: AuditLedger, ...errorResponses } },
  }, async (request, reply) => {
    const { accountId } = request.params;
    const at = request.query.at === undefined ? undefined : parseAt(request.query.at);
    if (request.query.at !== undefined && at === undefined) throw new ApiError(400, 'VALIDATION_FAILED', `at must be ${AT_DESCRIPTION}`);
    const retryAfter = options.limiter?.take(accountId) ?? 0;
    if (retryAfter > 0) throw new ApiError(429, 'RATE_LIMITED', `rate limit for ${accountId} reached; retry in ${retryAfter} s`, retryAfter);
    if (auditsRunning >= auditConcurrency) {
      throw new ApiError(503, 'UNAVAILABLE', `${auditsRunning} audits are running (AUDIT_CONCURRENCY); retry shortly`, UNAVAILABLE_RETRY_AFTER_S);
    }
    auditsRunning++;
    let streaming = false;
    try {
      await awaitPosition(request.query.minPosition);
      let ledger: unknown;
      try {
        ledger = await options.audit(accountId, at === undefined ? undefined : { at });
      } catch (error) {
        if (error instanceof ProjectionLagError) throw new ApiError(503, 'UNAVAILABLE', error.message, 1);
        throw error;
      }
      if (!isLedgerStream(ledger)) return ledger as Static<typeof AuditLedger>;
      const body = new PassThrough();
      streaming = true;
      ledger.write(body).then(() => body.end(), (error: unknown) => {
        if (!(error instanceof AuditAbortedError)) request.log.error({ err: error }, 'audit failed while streaming; the answer was cut short');
        body.destroy();
      }).finally(() => auditsRunning--);
      // The body bypasses the response serializer; its shape is the schema's (replay --json's printer).
      return reply.type('application/json; charset=utf-8').send(body as never);
    } finally {
      if (!streaming) auditsRunning--;
    }
  });

  done();
};
