// One error type for every failure an app sees: an answer of the API (its status and code), or no
// answer at all (status 0, NETWORK_ERROR / TIMEOUT), so a caller switches on `code` alone.
export class MiningApiError extends Error {
  override readonly name = 'MiningApiError';
  constructor(
    /** The HTTP status; 0 when no answer arrived. */
    readonly status: number,
    /** The API's code (NOT_MINING, SESSION_EXPIRED, RATE_LIMITED, …), or NETWORK_ERROR / TIMEOUT. */
    readonly code: string,
    message: string,
    /** Seconds, from Retry-After on 429 and 503. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }

  /** No answer, or an answer that says "try again": worth retrying while the session lives. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** Retry-After as seconds: delta-seconds, or an HTTP date measured against `now`. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}
