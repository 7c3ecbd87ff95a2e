// A real API around real parts: SQLite store in a test directory, the command handler, the
// projector, a virtual clock. Tokens are minted against the same clock.
import { join } from 'node:path';
import type { Test } from 'tap';
import { Registry } from 'prom-client';
import { buildApp, type ApiSettings } from '../../src/api/app.js';
import { signToken, type Role } from '../../src/api/auth.js';
import { virtualClock, uuidV7Generator, type VirtualClock } from '../../src/commands/clock.js';
import { createCommandHandler, type CommandHandler, type MiningSettings } from '../../src/commands/handler.js';
import { clampedCommandsMetric } from '../../src/commands/metrics.js';
import { auditStream } from '../../src/projections/ledger/audit.js';
import { startProjector, type Projector } from '../../src/projections/projector/projector.js';
import { openSqliteStore, type SqliteEventStore } from '../../src/store/sqlite/store.js';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Logger } from '../../src/config/logger.js';
import { miningCodec, type MiningRecord } from '../../src/commands/codec.js';

export const SECRET = Buffer.from('test-secret-that-is-long-enough-0123456789');
/** 2026-01-01T08:00:00.000Z */
export const T0 = Date.UTC(2026, 0, 1, 8);

export const DEFAULT_MINING: MiningSettings = {
  rateUnitsPerHour: 25_000_000n,
  heartbeatTimeoutMs: 300_000,
  maxSessionMs: 0,
  minHeartbeatIntervalMs: 0,
  sweepGraceMs: 2000,
};

export interface TestApiOptions {
  mining?: Partial<MiningSettings>;
  settings?: Partial<ApiSettings>;
  audit?: (accountId: string) => Promise<unknown>;
  logger?: Logger;
  /** e.g. 1, so that one revision conflict already answers 503. */
  maxAttempts?: number;
}

export interface TestApi {
  app: FastifyInstance;
  store: SqliteEventStore<MiningRecord>;
  clock: VirtualClock;
  handler: CommandHandler;
  projector: Projector;
  registry: Registry;
  dir: string;
  token(claims: { sub?: string; role?: Role; ttlSeconds?: number }): string;
  /** Authorization header for the account itself. */
  as(sub: string): Record<string, string>;
  asRole(role: Role): Record<string, string>;
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** POST a command as the account itself. */
  command(accountId: string, command: 'start' | 'heartbeat' | 'stop', body?: unknown): Promise<LightMyRequestResponse>;
  eventCount(): Promise<number>;
}

export async function testApi(t: Test, options: TestApiOptions = {}): Promise<TestApi> {
  const dir = t.testdir();
  const store = await openSqliteStore({ codec: miningCodec, path: join(dir, 'events.db') });
  const clock = virtualClock(T0);
  const mining = { ...DEFAULT_MINING, ...options.mining };
  const registry = new Registry();
  const handler = createCommandHandler({
    store, clock, ids: uuidV7Generator(clock), settings: () => mining, backoff: async () => undefined,
    onClamped: clampedCommandsMetric(registry),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
  });
  const projector = await startProjector({ store, readModelPath: join(dir, 'read.db'), registry });
  const app = await buildApp({
    settings: { heartbeatIntervalMs: 30_000, commandRateLimitPerMinute: 0, ...options.settings },
    store,
    handler,
    readModel: projector.readModel,
    audit: options.audit ?? ((accountId, query) => auditStream({ store, readModel: projector.readModel, accountId, at: query?.at })),
    clock,
    secret: SECRET,
    registry,
    caughtUp: projector.caughtUp,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  t.teardown(async () => {
    await app.close();
    await projector.stop();
    await store.close();
  });
  const token: TestApi['token'] = ({ sub, role, ttlSeconds = 3600 }) =>
    signToken({ ...(sub ? { sub } : {}), ...(role ? { role } : {}), ttlSeconds }, SECRET, clock.now());
  const bearer = (value: string) => ({ authorization: `Bearer ${value}` });
  return {
    app, store, clock, handler, projector, registry, dir, token,
    as: (sub) => bearer(token({ sub })),
    asRole: (role) => bearer(token({ role })),
    inject: (injectOptions) => app.inject(injectOptions),
    command: (accountId, command, body) =>
      app.inject({
        method: 'POST',
        url: `/v1/accounts/${encodeURIComponent(accountId)}/mining/${command}`,
        headers: bearer(token({ sub: accountId })),
        ...(body === undefined ? {} : { payload: body as object }),
      }),
    async eventCount() {
      let n = 0;
      for await (const _ of store.readAll()) n++;
      return n;
    },
  };
}
