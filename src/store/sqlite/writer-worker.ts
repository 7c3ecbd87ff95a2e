// Worker thread that owns the embedded store's write connection, so the fsync of every commit
// happens off the event loop that serves requests. Appends that arrive together share a commit.
import { parentPort, workerData } from 'node:worker_threads';
import { openWriter, type AppendRequest } from './writer.js';

export type WriterMessage =
  | { kind: 'append'; seq: number; batch: AppendRequest[] }
  | { kind: 'close' };

const INDEX_EVERY_MS = 100;
const port = parentPort!;
const writer = openWriter((workerData as { path: string }).path);
let queue: Extract<WriterMessage, { kind: 'append' }>[] = [];
let scheduled = false;

// Catch up the per-stream index left behind by a process that stopped before indexing.
while (writer.indexTail() > 0);

function flush(): void {
  scheduled = false;
  const messages = queue;
  queue = [];
  const batch = messages.flatMap((m) => m.batch);
  try {
    const outcomes = writer.appendBatch(batch);
    let offset = 0;
    for (const message of messages) {
      port.postMessage({ kind: 'appended', seq: message.seq, outcomes: outcomes.slice(offset, offset + message.batch.length) });
      offset += message.batch.length;
    }
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    for (const message of messages) port.postMessage({ kind: 'failed', seq: message.seq, message: text });
  }
}

const indexTimer = setInterval(() => {
  try {
    writer.indexTail();
  } catch {
    // Busy with another process's commit: the next tick retries; reads cover the unindexed tail.
  }
}, INDEX_EVERY_MS);

port.on('message', (message: WriterMessage) => {
  if (message.kind === 'append') {
    queue.push(message);
    // Messages that arrived in the same turn go into one transaction: group commit.
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
    return;
  }
  clearInterval(indexTimer);
  if (queue.length) flush();
  try {
    while (writer.indexTail() > 0);
  } finally {
    writer.close();
    port.postMessage({ kind: 'closed' });
  }
});
port.postMessage({ kind: 'ready' });
