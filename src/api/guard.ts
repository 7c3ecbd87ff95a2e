// The checks every /v1 account route runs before its body is even read, in SPEC order:
// authentication (401), account id (400 INVALID_ACCOUNT_ID), authorization (403).
// Request validation (400) and the domain (409) follow in Fastify's lifecycle.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../commands/clock.js';
import { ACCOUNT_ID_PATTERN, isValidAccountId } from '../domain/events.js';
import { isAllowed, type Access, type Principal, type TokenVerifier } from './auth.js';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the guard on every /v1 account route. */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** What a route does to its account: run a command, or read. */
    access?: Access;
  }
}

export function installGuard(app: FastifyInstance, verifier: TokenVerifier, clock: Clock): void {
  app.decorateRequest('principal', null);
  // A callback hook, not an async one: this runs on every request and a promise per hook shows.
  app.addHook('onRequest', (request: FastifyRequest, _reply, done) => {
    try {
      request.principal = authorize(request, verifier, clock);
      done();
    } catch (error) {
      done(error as Error);
    }
  });
}

/** Node keeps the first of two Authorization headers; a proxy may use the other: refuse both. */
function authorizationHeaders(request: FastifyRequest): number {
  const raw = request.raw.rawHeaders;
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === 'authorization') n++;
  return n;
}

function authorize(request: FastifyRequest, verifier: TokenVerifier, clock: Clock): Principal {
  if (authorizationHeaders(request) > 1) throw new ApiError(400, 'VALIDATION_FAILED', 'more than one Authorization header');
  const principal = verifier.verify(request.headers.authorization, clock.now());
  const accountId = (request.params as { accountId?: unknown }).accountId;
  if (!isValidAccountId(accountId)) {
    throw new ApiError(400, 'INVALID_ACCOUNT_ID', `accountId must match ${ACCOUNT_ID_PATTERN}`);
  }
  const access = request.routeOptions.config.access ?? 'command';
  if (!isAllowed(principal, accountId, access)) {
    const what = access === 'read' ? 'read' : access === 'admin' ? 'adjust the balance of' : 'run commands on';
    throw new ApiError(403, 'FORBIDDEN', `this token may not ${what} account ${accountId}`);
  }
  return principal;
}
