// GET /healthz (the process answers) and GET /readyz (the store answers and the read model is
// caught up within a bound): what a load balancer and an orchestrator ask.
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { ReadModel } from '../projections/read-model/read-model.js';
import type { EventStore } from '../store/port.js';
import { ApiError } from './errors.js';
import { errorResponses, PositionString } from './schemas.js';

export interface HealthRoutesOptions {
  store: EventStore;
  readModel: ReadModel;
  /** Resolves once the projector has delivered its backlog; absent for a read-only follower. */
  caughtUp?: Promise<void>;
  /** Ready while the read model trails the store by at most this many positions. */
  maxLag: bigint;
  /** How long the store may take to answer before the process counts as not ready. */
  storeTimeoutMs: number;
}

const Health = Type.Object({ status: Type.Literal('ok') });
const Ready = Type.Object({
  status: Type.Literal('ready'),
  storePosition: PositionString,
  readModelPosition: PositionString,
});

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const healthRoutes: FastifyPluginCallbackTypebox<HealthRoutesOptions> = (app, options, done) => {
  const { store, readModel, maxLag, storeTimeoutMs } = options;
  let caughtUp = options.caughtUp === undefined;
  void options.caughtUp?.then(() => {
    caughtUp = true;
  }, () => undefined);

  const notReady = (message: string) => new ApiError(503, 'UNAVAILABLE', message, 1);

  app.get('/healthz', {
    schema: { tags: ['health'], summary: 'The process is alive', response: { 200: Health } },
  }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', {
    schema: {
      tags: ['health'],
      summary: 'The store answers and the read model is caught up (503 UNAVAILABLE otherwise)',
      response: { 200: Ready, ...errorResponses },
    },
  }, async (request) => {
    // A damaged store (a failed integrity check, a corrupt page met by a command) is never ready;
    // its message names the file and says what to do (SPEC §15).
    const damaged = () => store.capabilities?.damage?.() ?? null;
    if (damaged() !== null) throw notReady(damaged()!);
    let head;
    try {
      head = await withTimeout(store.headPosition(), storeTimeoutMs);
    } catch (error) {
      if (damaged() !== null) throw notReady(damaged()!);
      // The reason (an address, a file) goes to the log; an unauthenticated probe learns only the fact.
      request.log.warn({ err: error }, 'readyz: event store unreachable');
      throw notReady('event store unreachable');
    }
    if (head === 'timeout') throw notReady(`event store did not answer within ${storeTimeoutMs} ms`);
    const problem = readModel.problem?.() ?? null;
    if (problem !== null) throw notReady(problem);
    if (!caughtUp) throw notReady('projector is still catching up with the store');
    const storePosition = head === 'start' ? 0n : head;
    const readPosition = readModel.position();
    if (storePosition - readPosition > maxLag) {
      throw notReady(`read model is ${storePosition - readPosition} positions behind the store (bound ${maxLag})`);
    }
    return { status: 'ready' as const, storePosition: storePosition.toString(), readModelPosition: readPosition.toString() };
  });

  done();
};
