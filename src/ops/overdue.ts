// Sessions past deadline + grace that are not stopped yet (SPEC §14 `mining_sessions_overdue`),
// counted from a read model's active sessions. The deadline is the domain's (deadlineOf); this file
// only pages and compares.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { deadlineOf, type SessionAccrual } from '../domain/session.js';

export type ActiveSessionPages = (options: { afterAccountId?: string; limit: number }) => SessionAccrual[];

export interface OverdueSession {
  accountId: string;
  sessionId: string;
  deadline: number;
}

const PAGE = 2000;

/** Every active session whose deadline lies before `bound` (exclusive), paging and yielding between pages. */
export async function* overdueSessions(pages: ActiveSessionPages, bound: number): AsyncIterable<OverdueSession> {
  let after: string | undefined;
  for (;;) {
    const page = pages(after === undefined ? { limit: PAGE } : { afterAccountId: after, limit: PAGE });
    for (const session of page) {
      const deadline = deadlineOf(session);
      if (deadline < bound) yield { accountId: session.accountId, sessionId: session.sessionId, deadline };
    }
    if (page.length < PAGE) return;
    after = page[page.length - 1]!.accountId;
    await yieldToLoop();
  }
}

export async function countOverdue(pages: ActiveSessionPages, bound: number): Promise<number> {
  let count = 0;
  for await (const _ of overdueSessions(pages, bound)) count++;
  return count;
}

/**
 * The gauge's source in a process without a sweeper (serve --no-sweeper): counted from the read
 * model at most once per `maxAgeMs`, so a scrape of a node with many active sessions stays cheap.
 */
export function cachedOverdueCount(options: { pages: ActiveSessionPages; now: () => number; graceMs: number; maxAgeMs?: number }): () => Promise<number> {
  const maxAgeMs = options.maxAgeMs ?? 5000;
  let last: { at: number; count: number } | undefined;
  let running: Promise<number> | undefined;
  return () => {
    const now = options.now();
    if (last && now - last.at < maxAgeMs) return Promise.resolve(last.count);
    running ??= countOverdue(options.pages, now - options.graceMs)
      .then((count) => ((last = { at: now, count }), count))
      .finally(() => (running = undefined));
    return running;
  };
}
