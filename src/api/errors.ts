// One error shape for every answer that is not a success: {statusCode, code, error, message}.
// Fastify's own errors (body parsing, validation, bad URLs) are translated here, so no client
// input can surface as anything but a 4xx with one of the codes of SPEC §5.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UnavailableError } from '../commands/handler.js';
import { ReadModelUnavailableError } from '../projections/read-model/read-model.js';
import { StoreUnavailableError } from '../store/port.js';

export type ErrorCode =
  | 'VALIDATION_FAILED' | 'INVALID_ACCOUNT_ID' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_FOUND'
  | 'NOT_MINING' | 'SESSION_EXPIRED' | 'SESSION_MISMATCH' | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE' | 'RATE_LIMITED' | 'UNAVAILABLE' | 'INTERNAL'
  | 'ADJUSTMENT_CONFLICT' | 'INSUFFICIENT_BALANCE' | 'BALANCE_TOO_LARGE';

export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  error: string;
  message: string;
}

/** An answer the API chose to give; anything else reaching the error handler is translated or a bug. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    /** Seconds, for 429 and 503. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** Seconds a client should wait before retrying a command the store could not take. */
export const UNAVAILABLE_RETRY_AFTER_S = 1;

export function errorBody(statusCode: number, code: ErrorCode, message: string): ErrorBody {
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/** Maps any error to the status and body the client sees; unknown errors are 500 INTERNAL. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof UnavailableError || error instanceof StoreUnavailableError || error instanceof ReadModelUnavailableError) {
    return new ApiError(503, 'UNAVAILABLE', error.message, UNAVAILABLE_RETRY_AFTER_S);
  }
  const fastifyError = error as Partial<FastifyError> | null;
  if (fastifyError && typeof fastifyError === 'object') {
    if (fastifyError.validation) {
      return new ApiError(400, 'VALIDATION_FAILED', fastifyError.message ?? 'invalid request');
    }
    const status = fastifyError.statusCode;
    // Fastify's 4xx errors are client input (bad JSON, bad URL, wrong length, too large, wrong type).
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const code = CODE_BY_STATUS[status];
      if (code) return new ApiError(status, code, fastifyError.message ?? code);
      return new ApiError(400, 'VALIDATION_FAILED', fastifyError.message ?? 'invalid request');
    }
  }
  return new ApiError(500, 'INTERNAL', 'internal error; it has been logged');
}

export function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  if (error.retryAfter !== undefined) void reply.header('retry-after', String(error.retryAfter));
  if (error.statusCode === 401) void reply.header('www-authenticate', 'Bearer');
  return reply.code(error.statusCode).send(errorBody(error.statusCode, error.code, error.message));
}

function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const apiError = toApiError(error);
  if (apiError.statusCode >= 500 && apiError.code === 'INTERNAL') {
    request.log.error({ err: error }, 'request failed');
  } else if (apiError.code === 'UNAVAILABLE') {
    request.log.warn({ err: error }, 'unavailable');
  }
  return sendError(reply, apiError);
}

/** Error handler, 404 handler and the framework-error hook (bad URLs), all with the same shape. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new ApiError(404, 'NOT_FOUND', `no route ${request.method} ${(request.url.split('?')[0] ?? '').slice(0, 200)}`)),
  );
}

/** For Fastify's `frameworkErrors` option: errors raised before routing (malformed URLs). */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  void handleError(error, request, reply);
}

/** Longest path parameter the router takes (routerOptions.maxParamLength); a longer one never routes. */
export const MAX_PARAM_LENGTH = 2048;

/**
 * `frameworkErrors` that authenticate first: a path parameter over MAX_PARAM_LENGTH never reaches a
 * route (nor its guard), so without this it was 400 before 401 and echoed the whole URL (SPEC §15).
 * Without a valid token it is the token's 401; with one, 400 VALIDATION_FAILED without the URL.
 */
export function frameworkErrorsAuthenticated(authenticate: (authorization: string | undefined) => void) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    if (error.code !== 'FST_ERR_MAX_PARAM_LENGTH') return frameworkErrors(error, request, reply);
    try {
      authenticate(request.headers.authorization);
    } catch (refused) {
      return void handleError(refused, request, reply);
    }
    void sendError(reply, new ApiError(400, 'VALIDATION_FAILED', `a path parameter is longer than ${MAX_PARAM_LENGTH} characters`));
  };
}
