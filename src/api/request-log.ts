// One structured line per finished request, carrying Fastify's request id (reqId). Successes log
// at debug, so the hot path costs a level check; client errors at info, 503 (retry later) at warn,
// other server errors at error.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../config/logger.js';

type Level = 'debug' | 'info' | 'warn' | 'error';

const SECRET_QUERY = /([?&](?:access_token|token)=)[^&#]*/gi;
const MAX_LOGGED_URL = 512;

/** The URL as logged: token query values redacted, and cut short (SPEC §15). */
export function loggedUrl(url: string): string {
  const redacted = url.replace(SECRET_QUERY, '$1[redacted]');
  return redacted.length > MAX_LOGGED_URL ? `${redacted.slice(0, MAX_LOGGED_URL)}…` : redacted;
}

export function installRequestLog(app: FastifyInstance): void {
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  // The level is fixed for the process's life: decide once which lines are written at all.
  const root = app.log as unknown as Partial<Logger>;
  const enabled = (level: Level) => (root.isLevelEnabled ? root.isLevelEnabled(level) : false);
  const on: Record<Level, boolean> = { debug: enabled('debug'), info: enabled('info'), warn: enabled('warn'), error: enabled('error') };
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    const status = reply.statusCode;
    const level: Level = status === 503 ? 'warn' : status >= 500 ? 'error' : status >= 400 ? 'info' : 'debug';
    if (on[level]) {
      request.log[level]({ method: request.method, url: loggedUrl(request.url), statusCode: status, responseTime: reply.elapsedTime }, 'request completed');
    }
    done();
  });
}
