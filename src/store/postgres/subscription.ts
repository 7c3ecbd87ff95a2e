// A catch-up subscription over the PostgreSQL store: the backlog in pages, one caught-up signal,
// then live events as commits are announced. When the server goes away it keeps its place and
// reads again from the last position it delivered once the server answers (nothing skipped,
// nothing repeated); only the handler's own errors end it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FromPosition, RecordedEvent, Subscription, SubscriptionHandler } from '../port.js';
import { subscriptionHandle, type StopSignal } from '../subscription-handle.js';
import { isUnavailable, toPortError } from './errors.js';
import type { CommitNotifier } from './notifier.js';

export interface ScannedPage {
  events: RecordedEvent[];
  /** Everything up to here has been looked at (the last event, or the head when the page came back short). */
  scannedTo: bigint;
}

export interface PostgresSubscriptionSource {
  from: FromPosition;
  batchSize: number;
  readPage(after: bigint, limit: number): Promise<ScannedPage>;
  notifier: CommitNotifier;
  isClosed(): boolean;
  handler: SubscriptionHandler;
  /** Pause before reading again after the server failed, by consecutive failure (ms). */
  retryDelayMs?(failures: number): number;
}

const defaultDelay = (failures: number) => Math.min(2000, 50 * 2 ** Math.min(failures, 6));

export function subscribePostgres(source: PostgresSubscriptionSource): Subscription {
  const signal: StopSignal = { stopped: false };
  const { handler, notifier } = source;
  const delay = source.retryDelayMs ?? defaultDelay;
  notifier.listen();

  async function run(): Promise<void> {
    let after = source.from === 'start' ? 0n : source.from;
    let caughtUp = false;
    let failures = 0;
    while (!signal.stopped && !source.isClosed()) {
      const seen = notifier.count();
      let page: ScannedPage;
      try {
        page = await source.readPage(after, source.batchSize);
        failures = 0;
      } catch (error) {
        if (!isUnavailable(error) || source.isClosed()) throw toPortError(error);
        failures++;
        const pause = new AbortController();
        signal.wake = () => pause.abort();
        await sleep(delay(failures), undefined, { signal: pause.signal }).catch(() => undefined);
        signal.wake = undefined;
        continue;
      }
      if (page.scannedTo > after) after = page.scannedTo;
      if (page.events.length > 0) {
        if (signal.stopped) return;
        await handler.onEvents(page.events);
        continue;
      }
      if (!caughtUp) {
        caughtUp = true;
        await handler.onCaughtUp?.(after);
        continue;
      }
      await notifier.wait(seen, signal);
    }
  }

  return subscriptionHandle(run(), signal, handler);
}
