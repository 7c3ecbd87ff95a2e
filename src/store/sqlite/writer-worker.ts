// Worker thread that owns the embedded store's write connection, so the fsync of every commit
// happens off the event loop that serves requests. Appends that arrive together share a commit.
import { parentPort, workerData } from 'node:worker_threads';
import { openWriter, packOutcomes, unpackBatch, type PackedBatch } from './writer.js';

export interface WriterWorkerData {
  path: string;
  /** Pause between index passes once caught up (ms); 0: index only when asked. */
  indexIntervalMs: number;
}

export type WriterMessage =
  | { kind: 'append'; seq: number; count: number; batch: PackedBatch }
  | { kind: 'index'; seq: number }
  | { kind: 'close'; seq: number };

/** Events per index transaction: small enough that appends queued behind it wait only milliseconds. */
const INDEX_CHUNK = 10_000;
const port = parentPort!;
const { path, indexIntervalMs } = workerData as WriterWorkerData;
// A store that cannot be opened is reported in words: an error thrown here reaches the main
// thread as a structured clone that printed "[object Object]".
let opened: ReturnType<typeof openWriter>;
try {
  opened = openWriter(path);
} catch (error) {
  const code = (error as { code?: unknown }).code;
  const text = error instanceof Error ? error.message : String(error);
  parentPort!.postMessage({ kind: 'startFailed', message: typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text });
  process.exit(1);
}
const writer = opened;
let queue: Extract<WriterMessage, { kind: 'append' }>[] = [];
let scheduled = false;
let closing = false;
let indexTimer: NodeJS.Timeout | undefined;

function flush(): void {
  scheduled = false;
  if (queue.length === 0) return;
  const messages = queue;
  queue = [];
  const batch = messages.length === 1 ? unpackBatch(messages[0]!.batch) : messages.flatMap((m) => unpackBatch(m.batch));
  try {
    const outcomes = writer.appendBatch(batch);
    let offset = 0;
    for (const message of messages) {
      port.postMessage({ kind: 'appended', seq: message.seq, outcomes: packOutcomes(outcomes, offset, offset + message.count) });
      offset += message.count;
    }
  } catch (error) {
    // The SQLite code (SQLITE_CORRUPT, SQLITE_FULL…) travels with the text: the main thread tells them apart.
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    const text = typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
    for (const message of messages) port.postMessage({ kind: 'failed', seq: message.seq, message: text });
  }
}

function indexChunk(): number {
  try {
    return writer.indexTail(INDEX_CHUNK);
  } catch {
    // Busy with another process's commit: the next pass retries; reads cover the unindexed tail.
    return 0;
  }
}

/** One chunk per turn, so appends interleave with a long catch-up (a large store left unindexed). */
function indexPass(): void {
  indexTimer = undefined;
  if (closing) return;
  if (indexChunk() >= INDEX_CHUNK) indexTimer = setTimeout(indexPass, 0);
  else if (indexIntervalMs > 0) indexTimer = setTimeout(indexPass, indexIntervalMs);
}

function close(seq: number): void {
  closing = true;
  if (indexTimer) clearTimeout(indexTimer);
  flush();
  writer.close();
  port.postMessage({ kind: 'closed', seq });
  port.close();
}

port.on('message', (message: WriterMessage) => {
  if (closing) return;
  switch (message.kind) {
    case 'append':
      queue.push(message);
      // Messages that arrived in the same turn go into one transaction: group commit.
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
      return;
    case 'index':
      flush();
      try {
        let indexed = 0;
        for (let n = writer.indexTail(INDEX_CHUNK); n > 0; n = writer.indexTail(INDEX_CHUNK)) indexed += n;
        port.postMessage({ kind: 'indexed', seq: message.seq, count: indexed });
      } catch (error) {
        port.postMessage({ kind: 'failed', seq: message.seq, message: error instanceof Error ? error.message : String(error) });
      }
      return;
    case 'close':
      close(message.seq);
  }
});
port.postMessage({ kind: 'ready' });
if (indexIntervalMs > 0) indexTimer = setTimeout(indexPass, 0);
