// The client in a real browser (Debian's chromium via playwright-core) against a real `serve` process
// with a short cadence and timeout, from a page on another origin (CORS). Everything is asserted from
// the server's side: `replay <account> --json`, the auditor's ledger rebuilt from the stream.
// Gated on TEST_CHROMIUM (.ci/setup.d/40-chromium.sh sets it); skipped, and says so, without it.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import t from 'tap';
import { signToken } from '../../src/api/auth.js';
import { runCli } from '../../src/cli/main.js';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { exited, spawnTs } from '../projections/fixtures/spawn.js';
import { freePort } from '../support/net.js';

const chromiumPath = process.env.TEST_CHROMIUM === '' ? undefined : process.env.TEST_CHROMIUM;
const skip = chromiumPath === undefined
  ? 'TEST_CHROMIUM is not set: browser tests skipped (.ci/setup.d/40-chromium.sh installs Debian chromium and sets it)'
  : existsSync(chromiumPath) ? false : `TEST_CHROMIUM=${chromiumPath} does not exist: browser tests skipped`;

// A serve process and a browser start here: slow on a busy machine, whatever the tests themselves take.
t.setTimeout(420_000);

const SECRET = 'browser-test-secret-0123456789abcdefghij';
const INTERVAL = 500;
const TIMEOUT = 3000;

interface Interval { from: string; to: string; ms: number; credited: boolean }
interface LedgerSession { sessionId: string; startedAt: string; stoppedAt: string | null; reason: string | null; creditedMs: number; intervals: Interval[] }

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

function testPage(apiBase: string): string {
  return `<!doctype html><meta charset="utf-8"><title>client test page</title>
<script type="module">
import { createMiningClient } from '${apiBase}/ui/client.js';
window.log = [];
window.begin = (token, whenHidden) => {
  const client = createMiningClient({ baseUrl: '${apiBase}', token });
  window.controller = client.keepMining({
    whenHidden,
    onUpdate: (session, kind) => window.log.push({ kind, sessionId: session.sessionId }),
    onEnded: (reason, detail) => window.log.push({ ended: reason, code: detail.error?.code ?? null }),
  });
};
// What a hidden tab looks like to a page: the Page Visibility API's state and its event.
window.setHidden = (hidden) => {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
  document.dispatchEvent(new Event('visibilitychange'));
};
window.ready = true;
</script>`;
}

t.test('keepMining in Chromium, judged by the ledger', { skip, timeout: 400_000 }, async (t) => {
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(join(tmpdir(), 'client-browser-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  const pages = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html));
  const pagePort = await listen(pages);
  t.teardown(() => new Promise<void>((resolve) => pages.close(() => resolve())));
  const apiPort = await freePort();
  const apiBase = `http://127.0.0.1:${apiPort}`;
  const html = testPage(apiBase);
  const examplePort = await freePort();
  const env = {
    DATA_DIR: dir, PORT: String(apiPort), JWT_SECRET: SECRET, LOG_LEVEL: 'warn',
    HEARTBEAT_INTERVAL_MS: String(INTERVAL), HEARTBEAT_TIMEOUT_MS: String(TIMEOUT),
    SWEEP_INTERVAL_MS: '100', SWEEP_GRACE_MS: '200', COMMAND_RATE_LIMIT_PER_MINUTE: '0',
    CORS_ORIGINS: `http://127.0.0.1:${pagePort},http://localhost:${examplePort}`,
  };
  const serve = spawnTs('./cli.ts', ['serve'], env);
  const serveExit = exited(serve);
  t.teardown(async () => {
    serve.kill('SIGTERM');
    await serveExit;
  });
  // Starting serve from source compiles it first: seconds, or a minute on a machine this busy.
  let serveEnded = false;
  void serveExit.then(() => (serveEnded = true));
  for (const startedAt = Date.now(); ;) {
    try {
      if ((await fetch(`${apiBase}/healthz`)).ok) break;
    } catch (error) {
      if (serveEnded) throw new Error(`serve exited before answering: ${(await serveExit).stderr}`);
      if (Date.now() - startedAt > 150_000) throw error;
      await sleep(100);
    }
  }

  const userDataDir = mkdtempSync(join(tmpdir(), 'client-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath!,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
      '--disable-component-update', '--disable-sync'],
  });
  t.teardown(async () => {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  });

  async function openPage(account: string, whenHidden: 'pause' | 'continue' = 'pause') {
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${pagePort}/`);
    await page.waitForFunction(() => (globalThis as unknown as { ready?: boolean }).ready === true);
    const token = signToken({ sub: account, ttlSeconds: 600 }, Buffer.from(SECRET), Date.now());
    await page.evaluate(([tok, hidden]) => (globalThis as unknown as { begin(t: string, h: string): void }).begin(tok!, hidden!), [token, whenHidden]);
    return page;
  }
  const setHidden = (page: import('playwright-core').Page, hidden: boolean) =>
    page.evaluate((h) => (globalThis as unknown as { setHidden(h: boolean): void }).setHidden(h), hidden);
  const pageLog = (page: import('playwright-core').Page) => page.evaluate(() => (globalThis as unknown as { log: unknown[] }).log) as Promise<Array<Record<string, unknown>>>;

  async function ledger(account: string): Promise<{ sessions: LedgerSession[] }> {
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (c) => (out += c));
    const code = await runCli(['replay', account, '--json'], { env, stdout, stderr: new PassThrough() });
    t.equal(code, 0, `replay ${account} matches the projection`);
    return JSON.parse(out) as { sessions: LedgerSession[] };
  }
  const heartbeatsOf = (s: LedgerSession) => s.intervals.filter((i) => i.credited).map((i) => Date.parse(i.to));

  await t.test('heartbeats at the advertised cadence; hidden, they stop and the session times out at its deadline with nothing credited for the hidden time', async (t) => {
    const page = await openPage('hidden-too-long');
    await sleep(2600);
    const hiddenAt = Date.now();
    await setHidden(page, true);
    await sleep(TIMEOUT + 1500);
    const { sessions } = await ledger('hidden-too-long');
    t.equal(sessions.length, 1);
    const s = sessions[0]!;
    const beats = heartbeatsOf(s);
    t.ok(beats.length >= 3, `${beats.length} heartbeats while visible`);
    const gaps = beats.map((at, i) => at - (i === 0 ? Date.parse(s.startedAt) : beats[i - 1]!));
    t.ok(gaps.every((g) => g >= INTERVAL - 100), `never faster than the advertised ${INTERVAL} ms: ${gaps.join(', ')}`);
    t.ok(gaps.every((g) => g < TIMEOUT), 'every gap within the timeout, so every one credited');
    const last = beats.at(-1)!;
    t.ok(last <= hiddenAt + 100, 'no heartbeat after the page was hidden');
    t.equal(s.reason, 'timeout');
    t.equal(Date.parse(s.stoppedAt!), last + TIMEOUT, 'stopped at its deadline: last heartbeat + timeout');
    t.equal(s.creditedMs, last - Date.parse(s.startedAt), 'credited exactly up to the last heartbeat');
    const tail = s.intervals.at(-1)!;
    t.same([tail.credited, Date.parse(tail.from), Date.parse(tail.to)], [false, last, last + TIMEOUT], 'the hidden time is an uncredited interval');

    await setHidden(page, false);
    await sleep(300);
    const log = await pageLog(page);
    t.same(log.at(-1), { ended: 'timeout', code: null }, 'back too late: onEnded(timeout), no restart');
    t.equal((await ledger('hidden-too-long')).sessions.length, 1, 'no new session started by itself');
    await page.close();
  });

  await t.test('back within the timeout, the same session resumes', async (t) => {
    const page = await openPage('back-in-time');
    await sleep(1200);
    await setHidden(page, true);
    const hiddenAt = Date.now();
    await sleep(1500);
    const shownAt = Date.now();
    await setHidden(page, false);
    await sleep(1200);
    const stopped = await page.evaluate(() => (globalThis as unknown as { controller: { stop(): Promise<{ reason: string; sessionId: string }> } }).controller.stop());
    t.equal(stopped.reason, 'user', 'controller.stop() resolves with the final session');
    const { sessions } = await ledger('back-in-time');
    t.equal(sessions.length, 1, 'one session throughout');
    const s = sessions[0]!;
    t.equal(s.sessionId, stopped.sessionId);
    const beats = heartbeatsOf(s);
    t.notOk(beats.some((at) => at > hiddenAt + 100 && at < shownAt - 50), 'nothing sent while hidden');
    t.ok(beats.some((at) => at >= shownAt - 50), 'heartbeats again after the return');
    t.ok(s.intervals.every((i) => i.credited), 'every gap within the timeout: credited by the server\'s rule');
    const log = await pageLog(page);
    t.same(log.filter((e) => 'kind' in e).map((e) => e.sessionId).filter((v, i, a) => a.indexOf(v) === i), [s.sessionId]);
    await page.close();
  });

  await t.test('closing the page records a user stop within a second', async (t) => {
    const page = await openPage('closes-the-tab');
    await sleep(1200);
    const closedAt = Date.now();
    await page.close({ runBeforeUnload: false });
    let s: LedgerSession | undefined;
    for (let i = 0; i < 40 && !s?.stoppedAt; i++) {
      await sleep(100);
      s = (await ledger('closes-the-tab')).sessions[0];
    }
    t.equal(s?.reason, 'user', 'the keepalive stop arrived');
    const lag = Date.parse(s!.stoppedAt!) - closedAt;
    t.ok(lag < 1000, `stopped ${lag} ms after the close`);
  });

  await t.test('examples/web: the page a developer opens starts and stops a session', async (t) => {
    const example = spawn(process.execPath, [fileURLToPath(new URL('../../examples/web/serve.mjs', import.meta.url)), String(examplePort)], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => void example.kill('SIGTERM'));
    await new Promise((resolve) => example.stdout!.once('data', resolve));
    const page = await context.newPage();
    await page.goto(`http://localhost:${examplePort}/?api=${apiBase}`);
    await page.fill('#token', signToken({ sub: 'example-user', ttlSeconds: 600 }, Buffer.from(SECRET), Date.now()));
    await page.click('#start');
    await page.waitForFunction(() => (globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('state').textContent === 'mining');
    await sleep(1200);
    await page.click('#stop');
    await page.waitForFunction(() => (globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('log').textContent.includes('ended: user'));
    const { sessions } = await ledger('example-user');
    t.equal(sessions.length, 1);
    t.equal(sessions[0]!.reason, 'user');
    t.ok(heartbeatsOf(sessions[0]!).length >= 2, 'heartbeats from the example page');
    await page.close();
  });
});
