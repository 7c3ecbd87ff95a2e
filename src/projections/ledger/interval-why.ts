// An interval's verdict in words, for the auditor's ledger (table, JSON, the audit route). The domain
// judges; this says it in English, so the wording can change without touching the rules.
import type { Interval } from '../../domain/session.js';
import { formatDuration } from '../../domain/time.js';

export function intervalWhy(interval: Interval): string {
  const timeout = formatDuration(interval.timeoutMs);
  switch (interval.verdict) {
    case 'offline': return `gap ${formatDuration(interval.ms)} > timeout ${timeout}: offline, not credited`;
    case 'clipped': return `${interval.end} within timeout, clipped at max session length ${formatDuration(interval.maxSessionMs)}`;
    case 'within': return `${interval.end} within timeout ${timeout}`;
    case 'timeout': return `no heartbeat within timeout ${timeout}: offline until the deadline, not credited`;
    case 'max_duration': return `max session length ${formatDuration(interval.maxSessionMs)} reached: not credited after the last heartbeat`;
  }
}

/**
 * intervalWhy that hands out the last text again when the next interval says the same: consecutive
 * intervals of a long replay mostly do. One per ledger being written.
 */
export function whyWriter(): (interval: Interval) => string {
  let last: Interval | null = null;
  let text = '';
  return (interval) => {
    if (last === null || last.verdict !== interval.verdict || last.end !== interval.end || last.timeoutMs !== interval.timeoutMs ||
      last.maxSessionMs !== interval.maxSessionMs || (interval.verdict === 'offline' && last.ms !== interval.ms)) {
      text = intervalWhy(interval);
    }
    last = interval;
    return text;
  };
}
