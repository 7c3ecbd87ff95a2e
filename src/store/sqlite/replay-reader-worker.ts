// The read half of a long replay, on a thread of its own: pages of one stream out of SQLite, each
// event parsed and validated by `decode` (type, data schema, metadata schema and version) here or,
// when this thread is the slower one, on the replaying thread; the page's text is handed over, and
// that thread folds and prints while this one reads the next page. A few pages run ahead, no more.
import { parentPort, workerData } from 'node:worker_threads';
import { decode } from '../../commands/codec.js';
import { ChainFollower, type ChainState } from '../../audit/chain.js';
import { openStreamScanner, pageEvent, pagePlace, rawFields, type RawEvent } from './stream-scan.js';

export interface ReplayReaderData {
  path: string;
  stream: string;
  /** First revision to read. */
  from: bigint;
  /** Last position to replay (inclusive): the read stops at the first event past it. */
  untilPosition: bigint | null;
  /** Events in the first page; later pages are sized to about PAGE_CHARS of text. */
  pageSize: number;
  /** Pages posted before the replaying thread has taken any. */
  ahead: number;
  /** The hash chain as followed up to `from` (SPEC §12); this thread follows it on. */
  chain: ChainState;
}

export type ReplayReaderMessage =
  | {
    kind: 'page';
    count: number;
    /** The first `count` events of the page, every one decoded here: see StreamTextPage (the split form only without `text`). */
    text: string | undefined;
    fields: string[] | undefined;
    /** Revision and position of the page's last event (unset when the page is empty). */
    lastRevision: bigint | undefined;
    lastPosition: bigint | undefined;
    /** Whether every event was decoded here; if not, the replaying thread decodes them. */
    validated: boolean;
    /** The stored fields of the event after the last, which did not decode: the replaying thread decodes it and throws. */
    failed: RawEvent | undefined;
    /** No page follows. */
    last: boolean;
    /** The hash chain after the page's events. */
    chain: ChainState;
  }
  | { kind: 'error'; name: string; message: string; code: unknown };

/** The replaying thread takes a page: one more may be read. */
export type ReplayReaderRequest = 'next';

/**
 * Text per page: under V8's large-object size (128 KiB), so page strings are young garbage in both
 * threads instead of large objects that pile up until a full collection (peak memory that grows
 * with the stream).
 */
const PAGE_CHARS = 96 * 1024;
const MIN_PAGE = 16;
const MAX_PAGE = 2000;
/** Pages waiting on the replaying thread from which this thread decodes the next page itself. */
const DECODE_WHEN_QUEUED = 2;

const port = parentPort!;
const { path, stream, untilPosition, ahead } = workerData as ReplayReaderData;
let from = (workerData as ReplayReaderData).from;
let pageSize = (workerData as ReplayReaderData).pageSize;
let credits = ahead;
let finished = false;
const scanner = openStreamScanner(path);
const chain = new ChainFollower(stream, (workerData as ReplayReaderData).chain);

function finish(): void {
  finished = true;
  scanner.close();
  port.close();
}

function readPage(validate: boolean): ReplayReaderMessage {
  const page = scanner.page(stream, from, pageSize);
  const { fields } = page;
  // Positions rise with revisions: only a page that reaches past the end is checked event by event.
  const whole = untilPosition === null || page.maxPosition <= untilPosition;
  let count = 0;
  let failed: RawEvent | undefined;
  let reachedEnd = false;
  for (; count < page.count; count++) {
    if (!whole && pagePlace(fields, count).position > untilPosition!) {
      reachedEnd = true;
      break;
    }
    try {
      // Every event is hashed here, so every one is parsed; validating it too is the optional half.
      const recorded = pageEvent(stream, fields, count);
      if (validate) decode(recorded);
      chain.follow(recorded);
    } catch {
      failed = rawFields(fields, count);
      break;
    }
  }
  const place = count > 0 ? pagePlace(fields, count - 1) : undefined;
  const last = reachedEnd || failed !== undefined || page.count < pageSize;
  if (page.count > 0) from = page.lastRevision + 1n;
  if (page.text !== undefined) pageSize = Math.max(MIN_PAGE, Math.min(MAX_PAGE, Math.floor((PAGE_CHARS * page.count) / page.text.length)));
  return {
    kind: 'page', count, text: page.text, fields: page.text === undefined ? fields : undefined,
    lastRevision: place?.revision, lastPosition: place?.position, validated: validate, failed, last, chain: chain.state(),
  };
}

function readAhead(): void {
  while (credits > 0 && !finished) {
    // Decoding is the larger half of the work here. With pages queued on the other side it is done
    // here; while the other thread is waiting for pages, it decodes them itself.
    const queued = ahead - credits;
    credits--;
    let message: ReplayReaderMessage;
    try {
      message = readPage(queued >= DECODE_WHEN_QUEUED);
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      message = { kind: 'error', name: e.name, message: e.message, code: (e as { code?: unknown }).code };
    }
    port.postMessage(message);
    if (message.kind === 'error' || message.last) finish();
  }
}

port.on('message', (request: ReplayReaderRequest) => {
  if (request !== 'next') return;
  credits++;
  readAhead();
});
readAhead();
