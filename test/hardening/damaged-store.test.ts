// A damaged events.db (SPEC §15 "Damaged store", issue 9 item 4): a store with a few accounts is
// built by a real `serve`, then, with the process stopped, a b-tree page in the middle of the file
// (one holding only one account's events) is overwritten. `serve` starts again: the integrity check
// at start fails it, /readyz is 503 naming the file and pointing at verify and a backup, a command on
// the damaged account is 503 UNAVAILABLE with Retry-After (never 500), others keep working, and the
// log names the file.
import Database from 'better-sqlite3';
import { openSync, readSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { bearer, request, serve, terminate } from './helpers.js';

const ACCOUNTS = ['alpha', 'victim', 'omega'];
const BEATS = 120;

async function command(base: string, account: string, what: 'start' | 'heartbeat' | 'stop') {
  return request(`${base}/v1/accounts/${account}/mining/${what}`, {
    method: 'POST', headers: { ...bearer({ sub: account }), 'content-type': 'application/json' }, body: '{}',
  });
}

/** Pages of the events table whose rows all belong to `stream`, from SQLite's own page map. */
function pagesOnlyOf(path: string, stream: string): { pageSize: number; pages: number[] } {
  const db = new Database(path, { readonly: true });
  try {
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const leaves = db.prepare("SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf' ORDER BY pageno").pluck().all() as number[];
    // A leaf page's rows: the rowids (positions) it holds, found by the page's own cell content.
    const owners = new Map<number, Set<string>>();
    const rows = db.prepare('SELECT position, stream FROM events ORDER BY position').all() as { position: number; stream: string }[];
    const fd = openSync(path, 'r');
    const buffer = Buffer.alloc(pageSize);
    for (const page of leaves) {
      readSync(fd, buffer, 0, pageSize, (page - 1) * pageSize);
      const text = buffer.toString('latin1');
      owners.set(page, new Set(rows.filter((r) => text.includes(r.stream)).map((r) => r.stream)));
    }
    closeSync(fd);
    return { pageSize, pages: leaves.filter((p) => { const o = owners.get(p)!; return o.size === 1 && o.has(stream); }) };
  } finally {
    db.close();
  }
}

t.test('a corrupted page in events.db: readyz 503 naming the file, commands on it 503 not 500', async (t) => {
  const dir = t.testdir();
  const env = { DATA_DIR: dir, COMMAND_RATE_LIMIT_PER_MINUTE: '0', MIN_HEARTBEAT_INTERVAL_MS: '0', LOG_LEVEL: 'info' };
  const first = await serve(t, env, ['--no-sweeper']);
  // One account after the other, so each one's events fill their own pages.
  for (const account of ACCOUNTS) {
    t.equal((await command(first.base, account, 'start')).status, 201);
    for (let i = 0; i < BEATS; i++) {
      const beat = await command(first.base, account, 'heartbeat');
      if (beat.status !== 200) t.fail(`heartbeat ${account}: ${beat.status}`);
    }
  }
  t.equal((await terminate(first)).code, 0);
  const path = join(dir, 'events.db');

  const { pageSize, pages } = pagesOnlyOf(path, 'mining-victim');
  t.ok(pages.length >= 3, `the victim's events fill pages of their own (${pages.join(', ')})`);
  const page = pages[Math.floor(pages.length / 2)]!;
  // Overwrite the page's b-tree header and cell pointers with garbage.
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(64, 0x5a), 0, 64, (page - 1) * pageSize);
  closeSync(fd);

  const second = await serve(t, env, ['--no-sweeper']);
  const ready = await request(`${second.base}/readyz`);
  t.equal(ready.status, 503, '/readyz fails');
  const readyBody = await ready.json() as { code: string; message: string };
  t.equal(readyBody.code, 'UNAVAILABLE');
  t.match(readyBody.message, /event store events\.db is damaged/, 'it names the file');
  t.match(readyBody.message, /mining-ledger verify/, 'and points at verify');
  t.match(readyBody.message, /restore a backup \(docs\/operations\.md "Backup and restore"\)/, 'and at a backup');

  const hurt = await command(second.base, 'victim', 'heartbeat');
  t.equal(hurt.status, 503, 'a command on the damaged account is 503, not 500');
  t.equal(hurt.headers.get('retry-after'), '1', 'with Retry-After');
  const hurtBody = await hurt.json() as { code: string; message: string };
  t.equal(hurtBody.code, 'UNAVAILABLE');
  t.match(hurtBody.message, /events\.db is damaged/);
  // Accounts on healthy pages are still served: the damage is contained.
  t.equal((await command(second.base, 'omega', 'heartbeat')).status, 200, 'another account still works');

  const { code } = await terminate(second);
  t.equal(code, 0);
  const log = second.stdout() + second.stderr();
  t.match(log, new RegExp(`"file":"${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}"`), 'the log names the file');
  t.match(log, /failed its integrity check/, 'the failed check at start is logged');
  t.notMatch(log, /"statusCode":500|request failed/, 'no 500 and no "request failed" (a bug) in the log');

  // Without the check at start, the first read that meets the damaged page turns readiness off.
  const unchecked = await serve(t, { ...env, INTEGRITY_CHECK_MS: '0' }, ['--no-sweeper']);
  t.equal((await request(`${unchecked.base}/readyz`)).status, 200, 'unchecked: ready until the damage is met');
  const met = await command(unchecked.base, 'victim', 'heartbeat');
  t.equal(met.status, 503, 'the read that meets the damaged page is 503');
  t.equal(met.headers.get('retry-after'), '1');
  const after = await request(`${unchecked.base}/readyz`);
  t.equal(after.status, 503, 'and /readyz fails from then on');
  t.match((await after.json() as { message: string }).message, /events\.db is damaged \(database disk image is malformed/);
  t.equal((await terminate(unchecked)).code, 0);
  t.match(unchecked.stdout(), /"msg":"unavailable"/, 'logged as unavailable, not as a bug');
  t.notMatch(unchecked.stdout(), /request failed/);
});

t.test('the check is bounded: a budget it cannot meet is logged as cut short and the start goes on', async (t) => {
  const dir = t.testdir();
  const served = await serve(t, { DATA_DIR: dir, LOG_LEVEL: 'info', INTEGRITY_CHECK_MS: '1' }, ['--no-sweeper']);
  t.equal((await request(`${served.base}/readyz`)).status, 200, 'ready: an unchecked store is not called damaged');
  await terminate(served);
  t.match(served.stdout(), /integrity check cut short \(not finished within 1 ms\)/);
});
