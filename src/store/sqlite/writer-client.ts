// The main thread's side of the writer worker: appends issued in one turn of the event loop travel as
// one message (one group commit). A writer that dies answers its in-flight appends as unavailable
// (their outcome is unknown; a retry with the same event ids is safe) and the next append starts a new one.
import { Worker } from 'node:worker_threads';
import { describeError } from '../../config/files.js';
import { StoreUnavailableError } from '../port.js';
import { outcomeList, packBatch, unpackOutcome, type AppendOutcome, type AppendRequest, type PackedOutcomes } from './writer.js';
import type { WriterMessage, WriterWorkerData } from './writer-worker.js';
import { siblingWorkerUrl } from '../../config/worker-url.js';

export interface WriterClientOptions extends WriterWorkerData {
  /** Called after every answer from the writer: something may have been committed. */
  onCommitted(): void;
  onWriterStarted?: ((worker: Worker) => void) | undefined;
}

export interface WriterClient {
  /**
   * `onOutcome`, when given, sees the outcome synchronously as the writer's answer arrives, before
   * `onCommitted` wakes anyone: the store records what it just committed there.
   */
  append(request: AppendRequest, onOutcome?: (outcome: AppendOutcome) => void): Promise<AppendOutcome>;
  /** Indexes every committed event now; resolves with how many it indexed. */
  indexNow(): Promise<number>;
  close(): Promise<void>;
}

type Reply = { kind: 'appended'; outcomes: PackedOutcomes } | { kind: 'indexed'; count: number } | { kind: 'closed' };
type WorkerReply = { seq: number } & (Reply | { kind: 'failed'; message: string });
type Pending = { resolve: (reply: Reply) => void; reject: (error: Error) => void };
interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
}
type Outgoing = {
  request: AppendRequest;
  resolve: (o: AppendOutcome) => void;
  reject: (e: Error) => void;
  onOutcome: ((o: AppendOutcome) => void) | undefined;
};

const describe = describeError;

export async function startWriterClient(options: WriterClientOptions): Promise<WriterClient> {
  const workerData: WriterWorkerData = { path: options.path, indexIntervalMs: options.indexIntervalMs };
  /** The writer in use, or being started; undefined until the next append after one died. */
  let current: Promise<Thread> | undefined;
  let live: Thread | undefined;
  let seq = 0;
  let closed = false;
  let outgoing: Outgoing[] = [];
  /** An append message is in flight. */
  let appending = false;

  // While a request waits for its answer a timer keeps the process alive, not worker.ref(): a
  // worker.unref() after an answer would undo the ref() that worker.terminate() takes, and when that
  // answer arrives after terminate() was called (drained before 'exit'), nothing kept the event loop
  // alive until 'exit', so terminate() and every later request never settled.
  let waiting = 0;
  let keepAlive: NodeJS.Timeout | undefined;
  function hold(): void {
    if (waiting++ === 0) keepAlive = setInterval(() => undefined, 1 << 30);
  }
  function release(count = 1): void {
    waiting -= count;
    if (waiting === 0 && keepAlive) {
      clearInterval(keepAlive);
      keepAlive = undefined;
    }
  }

  function attach(worker: Worker): Thread {
    const thread: Thread = { worker, pending: new Map() };
    worker.on('message', (message: WorkerReply) => {
      const pending = thread.pending.get(message.seq);
      if (!pending) return;
      thread.pending.delete(message.seq);
      release();
      if (message.kind === 'failed') pending.reject(new StoreUnavailableError(`event store write failed: ${message.message}`));
      else pending.resolve(message);
      options.onCommitted();
    });
    const gone = (error?: unknown) => {
      if (live === thread) {
        live = undefined;
        current = undefined;
      }
      const reason = new StoreUnavailableError(
        `event store writer stopped${error ? `: ${describe(error)}` : ''}; the outcome of this append is unknown, a retry with the same event ids is safe`,
      );
      const lost = [...thread.pending.values()];
      thread.pending.clear();
      release(lost.length);
      for (const pending of lost) pending.reject(reason);
      options.onCommitted();
    };
    worker.on('error', gone);
    worker.on('exit', () => gone());
    return thread;
  }

  function spawn(): Promise<Thread> {
    const worker = new Worker(siblingWorkerUrl('writer-worker', import.meta.url), { workerData });
    const starting = new Promise<Thread>((resolve, reject) => {
      const fail = (error: unknown) => {
        worker.off('message', onReady);
        reject(new StoreUnavailableError(`event store writer could not start: ${describe(error)}`));
      };
      const onExit = (code: number) => fail(new Error(`exited with code ${code}`));
      const onReady = (message: { kind: string; message?: string }) => {
        if (message.kind === 'startFailed') return fail(new Error(message.message));
        if (message.kind !== 'ready') return;
        worker.off('message', onReady).off('error', fail).off('exit', onExit);
        worker.unref();
        const thread = attach(worker);
        live = thread;
        options.onWriterStarted?.(worker);
        resolve(thread);
      };
      worker.on('message', onReady).once('error', fail).once('exit', onExit);
    });
    starting.catch(() => {
      if (current === starting) current = undefined;
    });
    return starting;
  }

  const thread = () => (current ??= spawn());

  /** Posts a message to the live writer (starting one if needed) and resolves with its answer. */
  function send(message: (seq: number) => WriterMessage): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => post(message, { resolve, reject }));
  }

  /** Like send, but the answer is handled synchronously as it arrives (before onCommitted). */
  function post(message: (seq: number) => WriterMessage, handle: Pending): void {
    // The common case skips a promise turn: the writer is up.
    if (live && current) {
      postTo(live, message, handle);
      return;
    }
    thread().then((t) => postTo(t, message, handle), handle.reject);
  }

  function postTo({ worker, pending }: Thread, message: (seq: number) => WriterMessage, handle: Pending): void {
    const id = ++seq;
    pending.set(id, handle);
    hold();
    worker.postMessage(message(id));
  }

  /**
   * One append message in flight at a time: appends that arrive while the writer commits wait for
   * its answer and go together in the next message. The batch grows with the load, and the writer
   * thread is woken once per commit instead of once per event-loop turn (each wake-up of an idle
   * thread cost more than the message itself).
   */
  function flushOutgoing(force = false): void {
    if (outgoing.length === 0 || (appending && !force)) return;
    const items = outgoing;
    outgoing = [];
    appending = true;
    const answered = () => {
      appending = false;
      flushOutgoing();
    };
    const batch = new Array<AppendRequest>(items.length);
    for (let i = 0; i < items.length; i++) batch[i] = items[i]!.request;
    post((id) => ({ kind: 'append', seq: id, count: items.length, batch: packBatch(batch) }), {
      resolve(reply) {
        const outcomes = outcomeList((reply as Extract<Reply, { kind: 'appended' }>).outcomes);
        for (let i = 0; i < items.length; i++) {
          const item = items[i]!;
          const outcome = unpackOutcome(outcomes, i);
          if (item.onOutcome) {
            try {
              item.onOutcome(outcome);
            } catch {
              // An observer's fault must not lose the answer.
            }
          }
          item.resolve(outcome);
        }
        answered();
      },
      reject(error: Error) {
        for (const item of items) item.reject(error);
        answered();
      },
    });
  }

  await thread();
  return {
    append(request, onOutcome) {
      if (closed) return Promise.reject(new StoreUnavailableError('event store is closed'));
      return new Promise((resolve, reject) => {
        // Appends of this turn go together; while a message is in flight its answer sends them.
        if (outgoing.length === 0 && !appending) setImmediate(flushOutgoing);
        outgoing.push({ request, resolve, reject, onOutcome });
      });
    },
    async indexNow() {
      if (closed) throw new StoreUnavailableError('event store is closed');
      const reply = await send((id) => ({ kind: 'index', seq: id }));
      return (reply as Extract<Reply, { kind: 'indexed' }>).count;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (outgoing.length > 0) flushOutgoing(true);
      if (!current) return;
      // Sent after the appends above, so the writer commits them before it closes.
      const { worker } = await current.catch(() => ({ worker: undefined }));
      await send((id) => ({ kind: 'close', seq: id })).catch(() => undefined);
      await worker?.terminate();
    },
  };
}
