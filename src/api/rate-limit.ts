// Per-account command budget: a token bucket of COMMAND_RATE_LIMIT_PER_MINUTE commands that
// refills continuously, so a client keeping the advertised cadence is never refused and a burst
// drains it. In memory, per process: a limit for abuse, not an accounting rule.
import type { Clock } from '../commands/clock.js';

export interface RateLimiter {
  /** 0 when the command may run (and is counted); otherwise seconds until one would be allowed. */
  take(accountId: string): number;
  readonly size: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

const MINUTE_MS = 60_000;

export function rateLimiter(limitPerMinute: number, clock: Clock): RateLimiter {
  const buckets = new Map<string, Bucket>();
  const perMs = limitPerMinute / MINUTE_MS;
  let lastPrune = clock.now();

  // A bucket untouched for a minute is full again: forgetting it changes nothing.
  function prune(now: number): void {
    if (now - lastPrune < MINUTE_MS) return;
    lastPrune = now;
    for (const [accountId, bucket] of buckets) if (now - bucket.at >= MINUTE_MS) buckets.delete(accountId);
  }

  return {
    take(accountId) {
      if (limitPerMinute <= 0) return 0;
      const now = clock.now();
      prune(now);
      const bucket = buckets.get(accountId);
      if (bucket === undefined) {
        buckets.set(accountId, { tokens: limitPerMinute - 1, at: now });
        return 0;
      }
      bucket.tokens = Math.min(limitPerMinute, bucket.tokens + Math.max(0, now - bucket.at) * perMs);
      bucket.at = Math.max(bucket.at, now);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
    },
    get size() {
      return buckets.size;
    },
  };
}
