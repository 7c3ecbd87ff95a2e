// SPEC §15 "Connections" and "Files and logs": parser errors in the error shape, a bound on open
// sockets, headers within 10 s, logged URLs redacted, /readyz detail kept for the log. Real sockets.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import t, { type Test } from 'tap';
import { testApi } from '../api/helpers.js';

async function listening(t: Test, settings = {}, logger?: pino.Logger) {
  const api = await testApi(t, { settings, ...(logger ? { logger } : {}) });
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  return { api, port: (api.app.server.address() as { port: number }).port };
}

function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.write(text);
  });
}

t.test('parser errors answer in the error shape with a code', async (t) => {
  const { port } = await listening(t);
  const cases: [string, string, number][] = [
    ['CL and TE together', 'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['two Content-Lengths', 'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400],
    ['headers too large', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ];
  for (const [what, request, status] of cases) {
    const answer = await raw(port, request);
    t.match(answer, new RegExp(`^HTTP/1.1 ${status} `), what);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'], what);
    t.equal(body.code, 'VALIDATION_FAILED', what);
  }
});

t.test('MAX_CONNECTIONS: sockets past the bound are closed, the ones inside keep working', async (t) => {
  const { port, api } = await listening(t, { maxConnections: 3 });
  t.equal(api.app.server.headersTimeout, 10_000, 'headers within 10 s');
  const idle: Socket[] = [];
  for (let i = 0; i < 3; i++) {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    idle.push(socket);
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  const extra = connect(port, '127.0.0.1');
  extra.on('error', () => undefined);
  extra.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  let answered = '';
  extra.on('data', (chunk) => (answered += chunk.toString()));
  await once(extra, 'close');
  t.equal(answered, '', 'the fourth socket is closed unanswered');
  idle[0]!.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  const [chunk] = (await once(idle[0]!, 'data')) as [Buffer];
  t.match(chunk.toString(), /^HTTP\/1.1 200/, 'a socket inside the bound is answered');
  for (const socket of idle) socket.destroy();
});

t.test('logged URLs have token query values redacted; /readyz keeps the store error for the log', async (t) => {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write(chunk, _e, done) { lines.push(chunk.toString()); done(); } }));
  const { api } = await listening(t, {}, logger);
  const res = await api.inject({ method: 'GET', url: '/v1/accounts/alice?access_token=SECRET1&x=1&token=SECRET2' });
  t.equal(res.statusCode, 401);
  const logged = lines.join('');
  t.notMatch(logged, /SECRET1|SECRET2/);
  t.match(logged, /access_token=\[redacted\]/);
  api.store.headPosition = async () => {
    throw new Error('connect ECONNREFUSED 127.0.0.1:1');
  };
  const ready = await api.inject({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 503);
  t.notMatch(ready.body, /ECONNREFUSED/, 'an unauthenticated probe sees no address');
  t.match(lines.join(''), /ECONNREFUSED/, 'the operator finds it in the log');
});
