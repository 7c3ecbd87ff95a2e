// The embedded store's `streamPages` capability: pages of one long stream for the auditor's
// replay, read and validated on a worker thread (replay-reader-worker.ts) while this thread folds
// and prints the page before. The worker opens the store's file itself.
import Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import type { ChainState } from '../../audit/chain.js';
import { decode } from '../../commands/codec.js';
import type { Actor, MiningEvent } from '../../domain/events.js';
import type { StreamPage, StreamPagesOptions } from '../capabilities.js';
import { DATA, FIELDS, METADATA, pageEvent, pagePlace, rawEvent, TYPE } from './stream-scan.js';
import type { ReplayReaderData, ReplayReaderMessage, ReplayReaderRequest } from './replay-reader-worker.js';
import { siblingWorkerUrl } from '../../config/worker-url.js';

function errorOf(message: Extract<ReplayReaderMessage, { kind: 'error' }>): Error {
  if (message.name === 'SqliteError') return new Database.SqliteError(message.message, String(message.code));
  const error = new Error(message.message);
  error.name = message.name;
  return error;
}

/**
 * The page's events. When the worker decoded them (`validated`), from this same text, the data is
 * parsed once more and nothing is checked again: it is what decode returned there. Otherwise each is
 * decoded here; one that does not decode ends the list and comes back as `error`.
 */
function eventsOf(
  stream: string, page: Extract<ReplayReaderMessage, { kind: 'page' }>,
): { events: MiningEvent[]; fields: string[]; actors?: Map<number, Actor>; error?: unknown } {
  const fields = page.fields ?? (page.count === 0 ? [] : page.text!.split('\n'));
  const events: MiningEvent[] = new Array(page.count);
  let actors: Map<number, Actor> | undefined;
  if (page.validated) {
    for (let i = 0, f = 0; i < page.count; i++, f += FIELDS) {
      const type = fields[f + TYPE];
      events[i] = { type, data: JSON.parse(fields[f + DATA]!) } as MiningEvent;
      // Adjustments are rare: their metadata is read for the actor the ledger names.
      if (type === 'BalanceAdjusted') (actors ??= new Map()).set(i, decode(pageEvent(stream, fields, i)).metadata.actor);
    }
    return actors ? { events, fields, actors } : { events, fields };
  }
  for (let i = 0; i < page.count; i++) {
    try {
      const { event, metadata } = decode(pageEvent(stream, fields, i));
      events[i] = event;
      if (event.type === 'BalanceAdjusted') (actors ??= new Map()).set(i, metadata.actor);
    } catch (error) {
      events.length = i;
      return actors ? { events, fields, actors, error } : { events, fields, error };
    }
  }
  return actors ? { events, fields, actors } : { events, fields };
}

function recordedAtOf(fields: string[]): (i: number) => string {
  return (i) => String((JSON.parse(fields[i * FIELDS + METADATA]!) as { recordedAt?: unknown }).recordedAt);
}

/** The store file's `streamPages` (StoreCapabilities.streamPages says what it yields). */
export async function* replayPages(
  path: string, stream: string, from: bigint, chain: ChainState, options: StreamPagesOptions = {},
): AsyncGenerator<StreamPage, void, undefined> {
  const workerData: ReplayReaderData = {
    path, stream, from, untilPosition: options.untilPosition ?? null, pageSize: options.pageSize ?? 400, ahead: options.ahead ?? 4, chain,
  };
  const worker = new Worker(siblingWorkerUrl('replay-reader-worker', import.meta.url), { workerData });
  const queue: ReplayReaderMessage[] = [];
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    const resume = wake;
    wake = null;
    resume?.();
  };
  worker.on('message', (message: ReplayReaderMessage) => {
    queue.push(message);
    notify();
  });
  worker.on('error', (error) => {
    failure ??= error;
    notify();
  });
  worker.on('exit', (code) => {
    failure ??= new Error(`the replay reader stopped (exit code ${code}) before the end of ${stream}`);
    notify();
  });
  let ended = false;
  try {
    for (;;) {
      // Pages that arrived before the worker exited are still taken first.
      while (queue.length === 0 && failure === null) await new Promise<void>((resolve) => (wake = resolve));
      const message = queue.shift();
      if (message === undefined) throw failure!;
      if (message.kind === 'error') throw errorOf(message);
      if (message.last) ended = true;
      else worker.postMessage('next' satisfies ReplayReaderRequest);
      const { events, fields, actors, error } = eventsOf(stream, message);
      if (error !== undefined) {
        if (events.length > 0) {
          const { revision, position } = pagePlace(fields, events.length - 1);
          yield { events, lastRevision: revision, lastPosition: position, chain: message.chain, recordedAt: recordedAtOf(fields), ...(actors ? { actors } : {}) };
        }
        throw error;
      }
      if (events.length > 0) {
        yield { events, lastRevision: message.lastRevision, lastPosition: message.lastPosition, chain: message.chain, recordedAt: recordedAtOf(fields), ...(actors ? { actors } : {}) };
      }
      if (message.failed) {
        decode(rawEvent(stream, message.failed));
        throw new Error(`${stream}@${message.failed.revision}: the replay reader could not decode an event that decodes here`);
      }
      if (ended) return;
    }
  } finally {
    if (!ended) await worker.terminate();
  }
}
