// The keyed queue serializes work per stream and lets different streams run side by side.
import t from 'tap';
import { keyedQueue } from '../../src/commands/keyed-queue.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

t.test('tasks with one key run one at a time, in arrival order', async (t) => {
  const queue = keyedQueue();
  const log: string[] = [];
  const gate = deferred();
  const first = queue.run('mining-a', async () => {
    log.push('first begins');
    await gate.promise;
    log.push('first ends');
    return 1;
  });
  const second = queue.run('mining-a', async () => {
    log.push('second');
    return 2;
  });
  await new Promise((r) => setImmediate(r));
  t.same(log, ['first begins'], 'the second waits for the first');
  gate.resolve();
  t.same(await Promise.all([first, second]), [1, 2]);
  t.same(log, ['first begins', 'first ends', 'second']);
});

t.test('different keys do not wait for each other', async (t) => {
  const queue = keyedQueue();
  const gate = deferred();
  const blocked = queue.run('mining-a', () => gate.promise.then(() => 'a'));
  t.equal(await queue.run('mining-b', async () => 'b'), 'b');
  await new Promise((r) => setImmediate(r));
  t.equal(queue.size, 1, 'only the blocked key is queued');
  gate.resolve();
  t.equal(await blocked, 'a');
});

t.test('a failing task fails its caller only; the next task with the key still runs', async (t) => {
  const queue = keyedQueue();
  const failing = queue.run('mining-a', async () => {
    throw new Error('boom');
  });
  const next = queue.run('mining-a', async () => 'after');
  await t.rejects(failing, { message: 'boom' });
  t.equal(await next, 'after');
});

t.test('idle keys are forgotten', async (t) => {
  const queue = keyedQueue();
  await Promise.all(Array.from({ length: 100 }, (_, i) => queue.run(`mining-${i % 10}`, async () => i)));
  await new Promise((r) => setImmediate(r));
  t.equal(queue.size, 0);
});
