// Wakes subscribers when events commit: this process's own commits at once, other processes'
// through LISTEN on the store's channel (NOTIFY is sent inside every append transaction), and a
// slow poll as the fallback while the listening connection is down or reconnecting.
import pg from 'pg';
import type { StopSignal } from '../subscription-handle.js';

export interface CommitNotifier {
  /** Changes whenever a commit may have happened that a reader has not seen. */
  count(): number;
  /** This process committed. */
  bump(): void;
  /** Resolves when count() moves past `seen`, after the poll interval, or when the signal is stopped. */
  wait(seen: number, signal: StopSignal): Promise<void>;
  /** Starts listening (idempotent). */
  listen(): void;
  close(): Promise<void>;
}

export interface NotifierOptions {
  connectionString: string;
  channel: string;
  /** Longest wait without a notification (ms). */
  pollIntervalMs: number;
}

export function commitNotifier(options: NotifierOptions): CommitNotifier {
  let counter = 0;
  let closed = false;
  let client: pg.Client | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  const waiters = new Set<() => void>();
  const bump = () => {
    counter++;
    for (const wake of [...waiters]) wake();
  };

  async function connect(): Promise<void> {
    if (closed || client) return;
    const listener = new pg.Client({ connectionString: options.connectionString, application_name: 'mining-ledger listen', keepAlive: true });
    client = listener;
    const lost = () => {
      if (client !== listener) return;
      client = undefined;
      listener.end().catch(() => undefined);
      if (closed) return;
      // Back off while the server is away; the poll keeps subscribers moving meanwhile.
      failures++;
      reconnectTimer = setTimeout(() => void connect(), Math.min(2000, 100 * 2 ** Math.min(failures, 5)));
    };
    listener.on('error', lost);
    listener.on('end', lost);
    listener.on('notification', bump);
    try {
      await listener.connect();
      await listener.query(`LISTEN "${options.channel}"`);
      failures = 0;
      // Commits may have happened while nobody listened.
      bump();
    } catch {
      lost();
    }
  }

  return {
    count: () => counter,
    bump,
    wait(seen, signal) {
      if (counter !== seen || signal.stopped) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(done);
          if (signal.wake === done) signal.wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, options.pollIntervalMs);
        waiters.add(done);
        signal.wake = done;
      });
    },
    listen: () => void connect(),
    async close() {
      closed = true;
      clearTimeout(reconnectTimer);
      for (const wake of [...waiters]) wake();
      const listener = client;
      client = undefined;
      await listener?.end().catch(() => undefined);
    },
  };
}
