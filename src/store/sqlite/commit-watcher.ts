// Wakes subscriptions when something was committed: at once for our own writer's answers, and for
// other processes' commits by polling SQLite's data_version, only while someone is waiting.
import type { CommitSignal } from './subscription.js';

export interface CommitWatcher {
  /** Something may have been committed: wake every waiter. */
  notify(): void;
  /** How many notifications so far; a waiter passes the count it last saw. */
  count(): number;
  /** Resolves at the next notification after `seen` (at once if one already happened), or on stop. */
  wait(seen: number, signal: CommitSignal): Promise<void>;
  /** Starts polling `dataVersion` for other connections' commits while anyone waits. */
  watch(dataVersion: () => unknown): void;
  close(): void;
}

export function commitWatcher(pollIntervalMs: number): CommitWatcher {
  let commits = 0;
  let closed = false;
  const waiters = new Set<() => void>();
  let readVersion: (() => unknown) | undefined;
  let lastVersion: unknown;
  let poller: NodeJS.Timeout | undefined;

  function notify(): void {
    commits++;
    for (const wake of [...waiters]) wake();
  }

  function poll(): void {
    if (waiters.size === 0 || !readVersion) return;
    const version = readVersion();
    if (version !== lastVersion) {
      lastVersion = version;
      notify();
    }
  }

  return {
    notify,
    count: () => commits,
    wait(seen, signal) {
      if (commits !== seen || signal.stopped || closed) return Promise.resolve();
      if (!poller && readVersion) {
        poller = setInterval(poll, pollIntervalMs);
        poller.unref();
      }
      return new Promise((resolve) => {
        const wake = () => {
          waiters.delete(wake);
          resolve();
        };
        signal.wake = wake;
        waiters.add(wake);
      });
    },
    watch(dataVersion) {
      readVersion = dataVersion;
      lastVersion = dataVersion();
    },
    close() {
      closed = true;
      if (poller) clearInterval(poller);
      for (const wake of [...waiters]) wake();
    },
  };
}
