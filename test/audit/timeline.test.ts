// The timeline page in a real browser (Debian's chromium through playwright-core) against a real
// `serve` process holding a known history: the SPEC §12 test hooks, zoom, 50,000 heartbeats, and a
// screenshot. Runs only when TEST_CHROMIUM names the browser (.ci/setup.d/40-chromium.sh sets it).
import t from 'tap';
import { mkdtempSync, readFileSync, statSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exited, spawnTs } from '../projections/fixtures/spawn.js';
import { DAY0, HOUR, mine, world } from '../projections/helpers.js';
import { cli, longChainedSession } from './helpers.js';
import { freePort } from '../support/net.js';

// Functions handed to page.evaluate run in the browser; this project compiles without the DOM library.
declare const document: any;
declare const window: any;
declare const requestAnimationFrame: (callback: () => void) => number;

const CHROMIUM = process.env.TEST_CHROMIUM;
const SECRET = 'timeline-test-secret-0123456789abcdef0123456789';

async function audit(base: string, token: string, accountId: string): Promise<any> {
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch(`${base}/v1/accounts/${accountId}/audit`, { headers: { authorization: `Bearer ${token}` } });
      if (response.status === 200) return response.json();
      if (attempt > 1200) throw new Error(`audit answered ${response.status}: ${await response.text()}`);
    } catch (error) {
      if (attempt > 1200) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

t.test('the timeline page in chromium against a real serve', { skip: CHROMIUM ? false : 'TEST_CHROMIUM is not set (no browser): the browser test is skipped' }, async (t) => {
  const { chromium } = await import('playwright-core');
  // A known history: alice stops by herself, then goes offline (a timeout), then is still mining;
  // busy has one session of 50,000 heartbeats.
  const w = await world(t);
  await mine(w, 'alice', 5, 'stop');
  w.clock.advance(HOUR);
  await mine(w, 'alice', 3, 'offline');
  w.clock.advance(HOUR);
  await mine(w, 'alice', 2, 'open');
  await longChainedSession(w, 'busy', 50_000, DAY0 - 30 * 24 * HOUR);
  await w.store.close();

  const port = await freePort();
  const env = { EVENT_STORE_URL: w.eventStoreUrl, READ_MODEL_PATH: w.readModelPath, DATA_DIR: w.dir, JWT_SECRET: SECRET, PORT: String(port), LOG_LEVEL: 'error' };
  const server = spawnTs('./cli.ts', ['serve', '--no-sweeper'], env);
  const serverExit = exited(server);
  t.teardown(async () => {
    server.kill('SIGTERM');
    await serverExit;
  });
  const minted = await cli(w, ['token', '--role', 'auditor', '--ttl', '3600'], { JWT_SECRET: SECRET });
  const token = minted.stdout.trim();
  const base = `http://127.0.0.1:${port}`;
  const ledger = await audit(base, token, 'alice');
  const intervals = ledger.sessions.flatMap((s: { intervals: { credited: boolean }[] }) => s.intervals);
  const credited = intervals.filter((i: { credited: boolean }) => i.credited).length;
  t.equal(ledger.sessions.length, 3);
  t.equal(credited, 10 + 1 + 6 + 4, 'user stop: 10 beats and the stop; timeout: 6 beats; open: 4 beats');
  t.equal(intervals.length - credited, 1, 'the timeout: last heartbeat to the deadline');

  const userDataDir = mkdtempSync(join(tmpdir(), 'timeline-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM!, headless: true, viewport: { width: 1280, height: 640 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));

  await page.goto(`${base}/ui/?account=alice#token=${encodeURIComponent(token)}`);
  await page.waitForSelector('[data-session-id]');
  t.equal(await page.locator('[data-session-id]').count(), 3, 'one element per session');
  t.equal(await page.locator('[data-credited="true"]').count(), credited, 'credited intervals');
  t.equal(await page.locator('[data-credited="false"]').count(), 1, 'uncredited intervals');
  t.equal(await page.locator('[data-adjustment-id]').count(), (ledger.adjustments ?? []).length, 'one marker per adjustment (none unless corrections are in)');
  const timeout = ledger.sessions[1];
  const lag = Date.parse(timeout.stopRecordedAt) - Date.parse(timeout.stoppedAt);
  t.equal(await page.locator('.stop[data-stop-reason="timeout"]').getAttribute('data-lag-ms'), String(lag), "the stop shows the sweeper's lag, recordedAt − at");
  t.match(await page.locator('.stop[data-stop-reason="user"]').textContent(), /^user · lag /);
  t.equal(await page.locator(`[data-session-id="${ledger.sessions[2].sessionId}"]`).getAttribute('data-reason'), 'open');
  t.match(await page.locator('#summary').textContent(), /Hash chain: intact \(\d+ chained\)/);

  const view = async () => {
    const attrs = await page.locator('#timeline').evaluate((node) => [node.dataset.viewStart, node.dataset.viewEnd]);
    return { start: Number(attrs[0]), end: Number(attrs[1]) };
  };
  const whole = await view();
  t.ok(whole.start <= DAY0 && whole.end >= Date.parse(ledger.sessions[2].intervals.at(-1).to), 'first the whole history');
  await page.click('button[data-action="zoom-in"]');
  await page.waitForFunction((before) => Number(document.getElementById('timeline').dataset.viewEnd) - Number(document.getElementById('timeline').dataset.viewStart) < before, whole.end - whole.start);
  const zoomed = await view();
  t.equal(Math.round(zoomed.end - zoomed.start), Math.round((whole.end - whole.start) / 2), 'zoom in halves the visible range');
  // Down to seconds: five seconds around the first heartbeat.
  await page.evaluate((at) => (window as any).timeline.setView(at - 2500, at + 2500), DAY0 + 30_000);
  await page.waitForFunction(() => Number(document.getElementById('timeline').dataset.viewEnd) - Number(document.getElementById('timeline').dataset.viewStart) <= 5000);
  t.match(await page.locator('#range').textContent(), /08:00:27\.500Z – .*08:00:32\.500Z \(5\.0 s\)/);
  t.equal(await page.locator('#beats').getAttribute('data-visible-heartbeats'), '1', 'one heartbeat tick in those seconds');
  await page.click('button[data-action="all"]');

  const shot = join(w.dir, 'timeline.png');
  await page.screenshot({ path: shot, fullPage: true });
  const png = readFileSync(shot);
  t.ok(statSync(shot).size > 5000, `screenshot saved (${statSync(shot).size} bytes)`);
  t.same([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  if (process.env.TIMELINE_SCREENSHOT) {
    mkdirSync(join(process.env.TIMELINE_SCREENSHOT, '..'), { recursive: true });
    copyFileSync(shot, process.env.TIMELINE_SCREENSHOT);
  }

  // 50,000 heartbeats: every interval is an element, ticks are a density on the canvas.
  await page.fill('#account', 'busy');
  await page.click('#open button[type="submit"]');
  await page.waitForFunction(() => document.querySelectorAll('[data-credited]').length > 50_000, undefined, { timeout: 60_000 });
  t.equal(await page.locator('[data-credited="true"]').count(), 50_001, '50,000 heartbeats and the stop');
  t.ok(Number(await page.locator('#beats').getAttribute('data-max-per-pixel')) > 1, 'zoomed out, heartbeats are binned as a density');
  const zoomMs = await page.evaluate(async () => {
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) {
      (window as any).timeline.zoom(0.5);
      await new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));
    }
    return (performance.now() - t0) / 5;
  });
  t.comment(`50,000 heartbeats: one zoom step (two frames) took ${zoomMs.toFixed(1)} ms on average here (shared, noisy machine; not asserted)`);
  t.equal(new URL(page.url()).searchParams.get('account'), 'busy', 'the form puts the account in the URL');
  t.notMatch(new URL(page.url()).search, /token/, 'and the token only in the fragment');

  t.same(errors, [], 'no script errors');
  t.same(requests.filter((url) => !url.startsWith(`${base}/`)), [], 'no request leaves the server origin');
});
