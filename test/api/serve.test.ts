// `mining-ledger serve` as a user runs it: a real port, the secret it creates, tokens from
// `mining-ledger token`, a graceful stop, then a scale-out restart with --no-projector --no-sweeper.
import { statSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import t from 'tap';
import { runCli } from '../../src/cli/main.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { freePort } from '../support/net.js';

function streams() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (chunk) => (out += chunk));
  stderr.resume();
  return { stdout, stderr, out: () => out.trim() };
}

/** Starts `serve` and waits (bounded) until it answers; resolve `stop` to send it "SIGTERM". */
async function serve(args: string[], env: Record<string, string>) {
  let stop!: () => void;
  const stopSignal = new Promise<string>((resolve) => (stop = () => resolve('SIGTERM')));
  const exited = runCli(['serve', ...args], { env, stopSignal, ...streams() });
  const base = `http://127.0.0.1:${env.PORT}`;
  // Bounded by time, not attempts: on a crowded 2-core machine serve can take many seconds to listen.
  const giveUpAt = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch (error) {
      if (Date.now() > giveUpAt) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  return { base, exited, stop };
}

async function mint(args: string[], env: Record<string, string>): Promise<string> {
  const io = streams();
  const code = await runCli(['token', ...args], { env, ...io });
  if (code !== 0) throw new Error(`token exited ${code}`);
  return io.out();
}

t.test('serve: secret created 0600, token accepted, commands answered, graceful stop; then a read-only follower', async (t) => {
  const dir = t.testdir();
  const env = { DATA_DIR: dir, PORT: String(await freePort()), LOG_LEVEL: 'error', SWEEP_INTERVAL_MS: '100' };
  const server = await serve([], env);
  t.equal(statSync(join(dir, 'jwt-secret')).mode & 0o777, 0o600, 'serve created the secret');
  const auth = { authorization: `Bearer ${await mint(['--sub', 'alice'], env)}` };
  const post = (command: string) => fetch(`${server.base}/v1/accounts/alice/mining/${command}`, { method: 'POST', headers: auth });

  t.equal((await post('start')).status, 201);
  t.equal((await post('heartbeat')).status, 200);
  const stop = await post('stop');
  t.equal(stop.status, 200);
  const { position } = (await stop.json()) as { position: string };
  const account = await fetch(`${server.base}/v1/accounts/alice?minPosition=${position}`, { headers: auth });
  t.equal(account.status, 200);
  t.equal(((await account.json()) as { position: string }).position, position);
  t.equal((await fetch(`${server.base}/readyz`)).status, 200);
  t.match(await (await fetch(`${server.base}/metrics`)).text(), /process_cpu_user_seconds_total/);
  const forged = await fetch(`${server.base}/v1/accounts/alice`, { headers: { authorization: `Bearer ${await mint(['--sub', 'alice'], { ...env, JWT_SECRET: 'y'.repeat(40) })}` } });
  t.equal(forged.status, 401, 'a token signed with another secret');

  server.stop();
  t.equal(await server.exited, 0, 'exit 0 after SIGTERM');
  const store = await openSqliteStore({ path: join(dir, 'events.db') });
  let events = 0;
  for await (const _ of store.readAll()) events++;
  await store.close();
  t.equal(events, 3, 'every acknowledged command is in the store');

  const follower = await serve(['--no-projector', '--no-sweeper'], { ...env, PORT: String(await freePort()) });
  const read = await fetch(`${follower.base}/v1/accounts/alice`, { headers: { authorization: `Bearer ${await mint(['--role', 'auditor'], env)}` } });
  t.equal(read.status, 200);
  t.equal(((await read.json()) as { position: string }).position, position, 'the follower reads the read model the projector left');
  follower.stop();
  t.equal(await follower.exited, 0);
});

/** Resolves with the first chunk of the answer that contains `text`, and everything read so far. */
function readUntil(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const onData = (chunk: Buffer) => {
      received += chunk.toString();
      if (received.includes(text)) {
        socket.off('data', onData);
        resolve(received);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

async function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(port, '127.0.0.1');
    probe.once('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.once('error', () => resolve(true));
  });
}

t.test('SIGTERM during a command: new connections are refused, the command in flight is answered and stored', async (t) => {
  const dir = t.testdir();
  const env = { DATA_DIR: dir, PORT: String(await freePort()), LOG_LEVEL: 'error' };
  const server = await serve(['--no-sweeper'], env);
  const token = await mint(['--sub', 'alice'], env);
  t.equal((await fetch(`${server.base}/v1/accounts/alice/mining/start`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status, 201);

  // The heartbeat's headers are in (the server said 100 Continue); its body is not sent yet.
  const socket = connect(Number(env.PORT), '127.0.0.1');
  t.teardown(() => socket.destroy());
  const body = '{}';
  socket.write(`POST /v1/accounts/alice/mining/heartbeat HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n`
    + `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`);
  await readUntil(socket, '100 Continue');
  server.stop();
  let refused = false;
  for (let attempt = 0; attempt < 200 && !refused; attempt++) refused = await refusesConnections(Number(env.PORT));
  t.ok(refused, 'no new connections once shutting down');
  const answer = readUntil(socket, '"recorded"');
  socket.write(body);
  const text = await answer;
  t.match(text, /HTTP\/1\.1 200 OK/);
  t.match(text, /"recorded":true/);
  t.match(text, /connection: close/i, 'the connection ends with the answer, so shutdown need not wait for keep-alive');
  t.equal(await server.exited, 0);

  const store = await openSqliteStore({ path: join(dir, 'events.db') });
  const types = [];
  for await (const event of store.readAll()) types.push(event.type);
  await store.close();
  t.same(types, ['MiningStarted', 'Heartbeat'], 'the in-flight heartbeat was committed before the store closed');
});

t.test('serve on a port in use exits 2 and says which', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const io = streams();
  let err = '';
  io.stderr.on('data', (chunk) => (err += chunk));
  const code = await runCli(['serve'], { env: { DATA_DIR: t.testdir(), PORT: String(port), LOG_LEVEL: 'silent' }, ...io });
  t.equal(code, 2);
  t.match(err, /PORT/);
});
