// kill -9 of `serve` while gateway batches are in flight: every item it answered 200 (recorded) is in
// the store after the restart, at the position the answer gave.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { signToken } from '../../src/api/auth.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { freePort } from '../support/net.js';

const fixture = fileURLToPath(new URL('./fixtures/serve-child.ts', import.meta.url));
const SECRET = 'crash-test-secret-that-is-long-enough-0123';

interface Ack {
  accountId: string;
  position: string;
}

t.test('kill -9 during batches: every heartbeat answered 200 is in the store after a restart', async (t) => {
  const dir = t.testdir();
  const port = await freePort();
  const env = {
    ...process.env, DATA_DIR: dir, PORT: String(port), JWT_SECRET: SECRET, LOG_LEVEL: 'error',
    EVENT_STORE_URL: `sqlite:${join(dir, 'events.db')}`, READ_MODEL_PATH: join(dir, 'read.db'), COMMAND_RATE_LIMIT_PER_MINUTE: '0',
  };
  const loader = process.execArgv.filter((arg) => arg.includes('typescript') || arg === '--enable-source-maps');
  const child = spawn(process.execPath, [...loader, fixture], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = once(child, 'exit');
  t.teardown(() => void child.kill('SIGKILL'));
  const base = `http://127.0.0.1:${port}`;
  // A busy machine may take a while to start serve under the TypeScript loader: wait for it to
  // answer, fail at once if it exits.
  const deadline = Date.now() + 100_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`serve exited early: ${child.exitCode ?? child.signalCode}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const headers = {
    authorization: `Bearer ${signToken({ role: 'gateway', ttlSeconds: 3600 }, Buffer.from(SECRET), Date.now())}`,
    'content-type': 'application/json',
  };
  const accounts = Array.from({ length: 200 }, (_, i) => `miner-${i}`);
  const starts = await Promise.all(accounts.map((a) => fetch(`${base}/v1/accounts/${a}/mining/start`, { method: 'POST', headers })));
  t.ok(starts.every((r) => r.status === 201), 'every account is mining');

  const acks: Ack[] = [];
  let batches = 0;
  let cutOff = 0;
  let killed = false;
  const body = JSON.stringify({ heartbeats: accounts.map((accountId) => ({ accountId })) });
  async function gateway(): Promise<void> {
    while (!killed) {
      let results: { accountId: string; status: number; recorded?: boolean; position?: string }[];
      try {
        const res = await fetch(`${base}/v1/heartbeats`, { method: 'POST', headers, body });
        results = ((await res.json()) as { results: typeof results }).results;
      } catch {
        cutOff++;
        return;
      }
      for (const r of results) if (r.status === 200 && r.recorded) acks.push({ accountId: r.accountId, position: r.position! });
      if (++batches === 10) {
        killed = true;
        child.kill('SIGKILL');
      }
    }
  }
  await Promise.all([gateway(), gateway(), gateway(), gateway()]);
  const [, signal] = await exited;
  t.equal(signal, 'SIGKILL');
  t.ok(cutOff >= 1, `${cutOff} batches were in flight when the server died`);
  t.ok(acks.length >= 10 * accounts.length, `${acks.length} heartbeats answered 200`);

  const store = await openSqliteStore({ path: join(dir, 'events.db') });
  t.teardown(() => store.close());
  const byPosition = new Map<string, { stream: string; type: string }>();
  for await (const event of store.readAll()) byPosition.set(event.position.toString(), { stream: event.stream, type: event.type });
  const missing = acks.filter((ack) => {
    const event = byPosition.get(ack.position);
    return event?.stream !== `mining-${ack.accountId}` || event.type !== 'Heartbeat';
  });
  t.same(missing, [], 'each acknowledged heartbeat at the position its answer gave');
  t.ok(byPosition.size >= accounts.length + acks.length, 'nothing lost from the log');
});
