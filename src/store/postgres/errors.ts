// Which PostgreSQL and socket errors mean "the store cannot answer now" (StoreUnavailableError, a
// 503 with Retry-After; retrying with the same event ids is safe) rather than a bug.
import { StoreUnavailableError } from '../port.js';

/** SQLSTATE classes: 08 connection exception, 53 insufficient resources, 57 operator intervention
 * (admin shutdown, crash shutdown, cannot connect now), 58 system error; 40001/40P01 serialization
 * failure and deadlock; 25006 read-only transaction (a standby); 28 / 3D000 the server refuses us. */
const UNAVAILABLE_CLASSES = ['08', '53', '57', '58', '28'];
const UNAVAILABLE_CODES = new Set(['40001', '40P01', '25006', '3D000', '55006', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ENOENT']);
/** node-postgres reports a lost or closed connection as plain Errors with these messages. */
const UNAVAILABLE_MESSAGES = /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Client was closed|Cannot use a pool after calling end|Query read timeout/i;

export function isUnavailable(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || (code.length === 5 && UNAVAILABLE_CLASSES.includes(code.slice(0, 2))))) return true;
  return UNAVAILABLE_MESSAGES.test(error.message);
}

/** The port's error for a failed store call: unavailable when the server or the link is at fault, else unchanged. */
export function toPortError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || !isUnavailable(error)) return error;
  const code = (error as { code?: unknown }).code;
  return new StoreUnavailableError(`PostgreSQL: ${(error as Error).message}${typeof code === 'string' ? ` (${code})` : ''}`);
}
