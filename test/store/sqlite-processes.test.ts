// Several processes on one store file: each notices the others' commits, revisions guard across
// processes, and an append acknowledged before kill -9 is there after reopening.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { WrongExpectedRevisionError } from '../../src/store/port.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { collect, idsOf, newEvents, record, revisionsOf } from './contract-helpers.js';
import type { ChildAnswer, ChildRequest } from './fixtures/store-child.js';

const childScript = fileURLToPath(new URL('./fixtures/store-child.ts', import.meta.url));

/** The child runs under the same TypeScript loader as this test (tap's, carried in execArgv). */
function startChild(args: string[]): ChildProcess {
  return spawn(process.execPath, [...process.execArgv, childScript, ...args], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
}

async function servingChild(path: string) {
  const child = startChild(['serve', path]);
  await once(child, 'message');
  return {
    async ask(request: Extract<ChildRequest, { op: 'append' }>): Promise<ChildAnswer> {
      const answered = once(child, 'message');
      child.send(request);
      return (await answered)[0] as ChildAnswer;
    },
    async exit() {
      const exited = once(child, 'exit');
      child.send({ op: 'exit' } satisfies ChildRequest);
      return (await exited)[0] as number;
    },
  };
}

t.test("another process's appends reach this process's subscription, and revisions guard across processes", async (t) => {
  const path = join(t.testdir(), 'events.db');
  const store = await openSqliteStore({ path });
  t.teardown(() => store.close());
  await store.append('mining-shared', newEvents(1), 'no_stream');
  const sub = record(store, { from: 'start', prefix: 'mining-' });
  await sub.until('caught up', () => sub.caughtUpAt === 1);
  const child = await servingChild(path);

  const written = await child.ask({ op: 'append', stream: 'mining-child', count: 5, expected: 'no_stream' });
  t.match(written, { ok: true, nextExpectedRevision: 4n });
  await sub.until("the child's events", () => sub.events.length === 6);
  t.same(idsOf(sub.events.slice(1)), (written as { ids: string[] }).ids, 'delivered live, in order');
  t.same(revisionsOf(await collect(store.readStream('mining-child'))), [0n, 1n, 2n, 3n, 4n], 'and readable here');

  t.match(await child.ask({ op: 'append', stream: 'mining-shared', count: 1, expected: 0n }), { ok: true, nextExpectedRevision: 1n });
  const stale = await store.append('mining-shared', newEvents(1), 0n).catch((error: unknown) => error);
  t.type(stale, WrongExpectedRevisionError, "this process's stale expected revision conflicts");
  t.equal((stale as WrongExpectedRevisionError).actual, 1n, "carrying the child's revision");
  t.equal((await store.append('mining-shared', newEvents(1), 1n)).nextExpectedRevision, 2n);
  t.match(await child.ask({ op: 'append', stream: 'mining-shared', count: 1, expected: 1n }), { ok: false, conflict: true, actual: 2n },
    "and the child's stale one too");

  let parentWins = 0;
  let childWins = 0;
  for (let round = 0; round < 15; round++) {
    const stream = `mining-race-${round}`;
    const [mine, theirs] = await Promise.all([
      store.append(stream, newEvents(1), 'no_stream').then(() => true, (error: unknown) => {
        if (error instanceof WrongExpectedRevisionError) return false;
        throw error;
      }),
      child.ask({ op: 'append', stream, count: 1, expected: 'no_stream' }).then((a) => a.ok),
    ]);
    if (mine) parentWins++;
    if (theirs) childWins++;
    t.equal(await store.streamRevision(stream), 0n);
  }
  t.equal(parentWins + childWins, 15, 'exactly one creator per stream across processes');
  t.equal(await child.exit(), 0);
  await store.capabilities.index();
  t.same(revisionsOf(await collect(store.readStream('mining-child'))), [0n, 1n, 2n, 3n, 4n], "the child's events, once indexed");
  await sub.subscription.stop();
  t.same(sub.errors, []);
});

t.test('every append acknowledged before kill -9 is there after reopening', async (t) => {
  const path = join(t.testdir(), 'events.db');
  const child = startChild(['append-loop', path, '8']);
  const acks: { stream: string; revision: bigint; position: bigint; id: string }[] = [];
  const exited = once(child, 'exit');
  for await (const line of createInterface({ input: child.stdout! })) {
    const [, stream, revision, position, id] = line.split(' ');
    acks.push({ stream: stream!, revision: BigInt(revision!), position: BigInt(position!), id: id! });
    if (acks.length === 400) child.kill('SIGKILL');
  }
  const [, signal] = await exited;
  t.equal(signal, 'SIGKILL');
  t.ok(acks.length >= 400, `${acks.length} acknowledged appends before the kill`);

  const store = await openSqliteStore({ path });
  t.teardown(() => store.close());
  let missing = 0;
  for (const ack of acks) {
    const [event] = await collect(store.readStream(ack.stream, { fromRevision: ack.revision, maxCount: 1 }));
    if (event?.id !== ack.id || event.position !== ack.position) missing++;
  }
  t.equal(missing, 0, 'each acknowledged event at its revision and position');
  const all = await collect(store.readAll());
  t.ok(all.length >= acks.length, 'nothing lost from the log either');
  for (let loop = 0; loop < 8; loop++) {
    const revisions = revisionsOf(await collect(store.readStream(`crash-${loop}`)));
    t.ok(revisions.every((r, i) => r === BigInt(i)), `crash-${loop}: revisions without gaps (${revisions.length})`);
  }
  t.equal((await store.append('crash-0', newEvents(1), 'any')).position > acks.reduce((m, a) => (a.position > m ? a.position : m), 0n), true,
    'appends go on after the last acknowledged position');
});
