// The HTTP API as a Fastify instance: everything it needs comes in as dependencies (no environment
// is read here), so tests build it around a virtual clock and `serve` around the system clock.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { AtPoint } from '../audit/at.js';
import type { Clock } from '../commands/clock.js';
import type { CommandHandler } from '../commands/handler.js';
import type { Logger } from '../config/logger.js';
import type { ReadModel } from '../projections/read-model/read-model.js';
import type { MiningStore } from '../commands/codec.js';
import { createAdjuster } from '../commands/adjust.js';
import { uuidV7Generator } from '../commands/clock.js';
import { accountRoutes } from './accounts.js';
import { adjustmentRoutes } from './adjustments.js';
import { tokenVerifier } from './auth.js';
import { clientScriptRoute } from './client-script.js';
import { installCors } from './cors.js';
import { installDrain } from './drain.js';
import { frameworkErrorsAuthenticated, installErrorHandling, MAX_PARAM_LENGTH } from './errors.js';
import { errorBody } from './errors.js';
import { STATUS_CODES } from 'node:http';
import { installGuard } from './guard.js';
import { healthRoutes } from './health.js';
import { heartbeatsRoutes } from './heartbeats.js';
import { installMetrics, type MetricSources } from './metrics.js';
import { miningRoutes } from './mining.js';
import { rateLimiter } from './rate-limit.js';
import { installRequestLog } from './request-log.js';
import { uiRoutes } from './ui.js';

export interface ApiSettings {
  /** HEARTBEAT_INTERVAL_MS, advertised in every session. */
  heartbeatIntervalMs: number;
  /** COMMAND_RATE_LIMIT_PER_MINUTE; 0 = off. */
  commandRateLimitPerMinute: number;
  /** Largest request body in bytes (default 16 KiB: a heartbeat is under 100). */
  bodyLimit?: number;
  /** How long ?minPosition= waits (default 2000 ms, SPEC §5). */
  readWaitMs?: number;
  /** MAX_CONNECTIONS: open sockets at most (default 10,000); more are closed at once (SPEC §15). */
  maxConnections?: number;
  /** AUDIT_CONCURRENCY: audits running at once (default 2); a further one is 503. */
  auditConcurrency?: number;
  /** /readyz: how far the read model may trail the store (default 10,000 positions). */
  readyMaxLag?: bigint;
  /** CORS_ORIGINS: exact origins whose pages may call the API (default none). */
  corsOrigins?: readonly string[];
}

export interface ApiDeps {
  settings: ApiSettings;
  store: MiningStore;
  handler: CommandHandler;
  readModel: ReadModel;
  /** The auditor's ledger of one account (src/projections/ledger/audit.ts), returned verbatim. */
  audit: (accountId: string, query?: { at?: AtPoint }) => Promise<unknown>;
  clock: Clock;
  /** HS256 key. */
  secret: Buffer;
  registry: Registry;
  /** Omitted: no logging. */
  logger?: Logger;
  /** The projector's initial catch-up, for /readyz. */
  caughtUp?: Promise<void>;
  metrics?: MetricSources;
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._:@+-]{1,128}$/;

/** The client's x-request-id / x-correlation-id when it is sane, else a cheap process-unique id. */
function requestIdGenerator(): (req: IncomingMessage) => string {
  const boot = randomBytes(6).toString('base64url');
  let counter = 0;
  return (req) => {
    const given = req.headers['x-request-id'] ?? req.headers['x-correlation-id'];
    if (typeof given === 'string' && SANE_REQUEST_ID.test(given)) return given;
    return `${boot}-${(++counter).toString(36)}`;
  };
}

async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'mining-ledger',
        version: '1',
        description: 'Event-sourced mining ledger: balances count only time between heartbeats. See docs/api.md.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const { settings, clock } = deps;
  // Authenticates a request whose path parameter is too long to route (frameworkErrorsAuthenticated).
  const urlVerifier = tokenVerifier(deps.secret);
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: false }),
    // Fastify's two lines per request are replaced by one, at debug for successes (request-log.ts).
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestIdGenerator(),
    bodyLimit: settings.bodyLimit ?? 16 * 1024,
    // A body shorter than its Content-Length would otherwise hold the connection for 5 minutes.
    requestTimeout: 30_000,
    // Requests that reach a closing server are still answered (with Connection: close).
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Long enough for any account id, so a too-long one is 400 INVALID_ACCOUNT_ID, not 404.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: false } },
    frameworkErrors: frameworkErrorsAuthenticated((authorization) => void urlVerifier.verify(authorization, clock.now())),
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();
  // All headers within 10 s (Node's default is 60 s: a slow client held a socket that long), and a
  // bound on sockets, so a flood of idle connections cannot take the last file descriptors.
  app.server.headersTimeout = 10_000;
  app.server.maxConnections = settings.maxConnections ?? 10_000;

  installErrorHandling(app);
  installDrain(app);
  installJsonOnly(app);
  installRequestLog(app);
  const metrics = installMetrics(app, deps.registry, deps.metrics ?? {});
  await installCors(app, settings.corsOrigins ?? []);
  await registerDocs(app);

  await app.register(healthRoutes, {
    store: deps.store,
    readModel: deps.readModel,
    ...(deps.caughtUp ? { caughtUp: deps.caughtUp } : {}),
    maxLag: settings.readyMaxLag ?? 10_000n,
    storeTimeoutMs: 1000,
  });
  await app.register(uiRoutes);
  await app.register(clientScriptRoute);
  // One budget per account, whether its heartbeats come one by one or in a gateway's batch.
  const limiter = rateLimiter(settings.commandRateLimitPerMinute, clock);
  await app.register(heartbeatsRoutes, {
    prefix: '/v1',
    handler: deps.handler,
    verifier: tokenVerifier(deps.secret),
    clock,
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    limiter,
    metrics,
  });
  await app.register(async (v1) => {
    installGuard(v1, tokenVerifier(deps.secret), clock);
    await v1.register(miningRoutes, {
      prefix: '/mining',
      handler: deps.handler,
      heartbeatIntervalMs: settings.heartbeatIntervalMs,
      limiter,
      metrics,
    });
    await v1.register(accountRoutes, {
      store: deps.store,
      readModel: deps.readModel,
      clock,
      heartbeatIntervalMs: settings.heartbeatIntervalMs,
      audit: deps.audit,
      readWaitMs: settings.readWaitMs ?? 2000,
      limiter,
      ...(settings.auditConcurrency === undefined ? {} : { auditConcurrency: settings.auditConcurrency }),
    });
    await v1.register(adjustmentRoutes, {
      prefix: '/adjustments',
      // After an adjustment the handler's cached state of the stream is one revision behind: drop it.
      adjuster: createAdjuster({ store: deps.store, clock, ids: uuidV7Generator(clock), onWritten: (accountId) => deps.handler.forget(accountId) }),
      store: deps.store,
      readModel: deps.readModel,
      readWaitMs: settings.readWaitMs ?? 2000,
    });
  }, { prefix: '/v1/accounts/:accountId' });
  return app;
}

/** Errors of Node's HTTP parser (431, 408, CL+TE, two Content-Lengths) in the error shape of SPEC §5. */
function clientErrorHandler(error: NodeJS.ErrnoException, socket: import('node:net').Socket): void {
  if (!socket.writable) return void socket.destroy();
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message = status === 431 ? 'request headers too large' : status === 408 ? 'request not received in time' : 'malformed HTTP request';
  const body = JSON.stringify(errorBody(status, 'VALIDATION_FAILED', message));
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** Bodies are JSON or nothing: no text/plain parser, and an empty JSON body means "no fields". */
function installJsonOnly(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body.length === 0) return done(null, undefined);
    parseJson(request, body as string, done);
  });
}
