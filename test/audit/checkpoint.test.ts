// SPEC §12 signed checkpoints: `checkpoint` appends a signed tree head; `verify --checkpoints` finds
// an edit whose per-stream hashes were all recomputed, a truncated store, and a forged checkpoint.
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chainMetadata } from '../../src/audit/chain.js';
import { cli, history, storedEvents, tamperStore } from './helpers.js';
import { mine } from '../projections/helpers.js';

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;

t.test('checkpoint appends a signed tree head to DATA_DIR/checkpoints.jsonl; its key is 0600; --public-key prints PEM', async (t) => {
  const w = await history(t);
  const first = await cli(w, ['checkpoint']);
  t.equal(first.code, 0, first.stderr);
  const line = JSON.parse(first.stdout);
  t.match(line, { position: /^\d+$/, size: 18, root: /^[0-9a-f]{64}$/, at: /Z$/, keyId: /^[0-9a-f]{64}$/, signature: /^[A-Za-z0-9+/]+=*$/ });
  t.equal(statSync(join(w.dir, 'checkpoint-key.pem')).mode & 0o777, 0o600);
  const pem = await cli(w, ['checkpoint', '--public-key']);
  t.equal(pem.code, 0);
  t.match(pem.stdout, /^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);
  await mine(w, 'carol', 1, 'stop');
  t.equal((await cli(w, ['checkpoint'])).code, 0);
  const lines = readFileSync(join(w.dir, 'checkpoints.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.equal(lines.length, 2);
  t.equal(lines[1].size, 22, 'the second covers carol too');
  t.equal(lines[1].keyId, lines[0].keyId, 'the same key signs both');
  const verify = await cli(w, ['verify', '--checkpoints', join(w.dir, 'checkpoints.jsonl')]);
  t.equal(verify.code, 0, verify.stdout);
  t.match(verify.stdout, /checkpoints: 2 checked, 0 failed/);
  const out = join(w.dir, 'elsewhere.jsonl');
  t.equal((await cli(w, ['checkpoint', '--out', out])).code, 0);
  t.equal(readFileSync(out, 'utf8').trim().split('\n').length, 1, '--out writes elsewhere');
});

t.test('an event edited with every later hash of its stream recomputed: the chain holds, the checkpoint does not', async (t) => {
  const w = await history(t);
  t.equal((await cli(w, ['checkpoint'])).code, 0);
  await mine(w, 'bob', 1, 'stop');
  // The attacker rewrites alice's heartbeat at revision 3 and re-chains everything after it.
  const events = storedEvents(w.store.path, 'mining-alice');
  let prevHash: string | null = JSON.parse(events[2]!.metadata).hash;
  const statements: string[] = [];
  for (const stored of events.slice(3)) {
    const data = JSON.parse(stored.data);
    if (stored.revision === 3) data.at = '2026-03-01T08:01:40.000Z';
    const { hash: _old, ...rest } = JSON.parse(stored.metadata);
    const metadata = chainMetadata('mining-alice', BigInt(stored.revision), stored.type, data, rest, prevHash);
    prevHash = metadata.hash;
    statements.push(`UPDATE events SET data = ${q(JSON.stringify(data))}, metadata = ${q(JSON.stringify(metadata))} WHERE position = ${stored.position};`);
  }
  tamperStore(w.store.path, statements.join('\n'));
  const replay = await cli(w, ['replay', 'alice']);
  t.equal(replay.code, 0, 'the forged stream is internally consistent');
  const verify = await cli(w, ['verify', '--checkpoints', join(w.dir, 'checkpoints.jsonl')]);
  t.equal(verify.code, 1);
  t.match(verify.stdout, /0 broken/);
  t.match(verify.stdout, /CHECKPOINT line 1 \(position \d+, size 18\): the store up to position \d+ hashes to [0-9a-f]{64}, the checkpoint's root is [0-9a-f]{64} \(an event was edited or moved\)/);
  t.match(verify.stdout, /checkpoints: 1 checked, 1 failed/);
});

t.test('a truncated store and a deleted event are caught by the checkpoint', async (t) => {
  const w = await history(t);
  t.equal((await cli(w, ['checkpoint'])).code, 0);
  const file = join(w.dir, 'checkpoints.jsonl');
  const { position } = JSON.parse(readFileSync(file, 'utf8'));
  tamperStore(w.store.path, `DELETE FROM stream_index WHERE position > ${Number(position) - 3}; DELETE FROM events WHERE position > ${Number(position) - 3};`);
  const verify = await cli(w, ['verify', '--checkpoints', file]);
  t.equal(verify.code, 1);
  t.match(verify.stdout, /CHECKPOINT line 1 .*: the store holds 15 events up to position \d+, the checkpoint 18 \(events were deleted or the store truncated\)/);
});

t.test('a checkpoint whose root was changed has a bad signature; another key is named as such; junk lines are findings', async (t) => {
  const w = await history(t);
  t.equal((await cli(w, ['checkpoint'])).code, 0);
  const file = join(w.dir, 'checkpoints.jsonl');
  const good = JSON.parse(readFileSync(file, 'utf8'));
  const forged = { ...good, root: good.root.replace(/^./, (c: string) => (c === '0' ? '1' : '0')) };
  writeFileSync(file, `${JSON.stringify(good)}\n${JSON.stringify(forged)}\nnot json\n{"position":"1"}\n`);
  const verify = await cli(w, ['verify', '--checkpoints', file]);
  t.equal(verify.code, 1);
  t.notMatch(verify.stdout, /CHECKPOINT line 1\b/, 'the good one holds');
  t.match(verify.stdout, /CHECKPOINT line 2 \(position \d+, size 18\): bad signature/);
  t.match(verify.stdout, /CHECKPOINT line 3: not JSON/);
  t.match(verify.stdout, /CHECKPOINT line 4: not a checkpoint/);
  t.match(verify.stdout, /checkpoints: 4 checked, 3 failed/);
  const other = join(w.dir, 'other.pem');
  writeFileSync(other, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
  const wrongKey = await cli(w, ['verify', '--checkpoints', file, '--public-key', other]);
  t.equal(wrongKey.code, 1);
  t.match(wrongKey.stdout, /CHECKPOINT line 1 .*: signed by key [0-9a-f]{64}, not by the public key given/);
  const exported = join(w.dir, 'ours.pem');
  writeFileSync(exported, (await cli(w, ['checkpoint', '--public-key'])).stdout);
  writeFileSync(file, `${JSON.stringify(good)}\n`);
  t.equal((await cli(w, ['verify', '--checkpoints', file, '--public-key', exported])).code, 0, 'the exported public key verifies');
});

t.test('bad usage of checkpoint and verify --checkpoints exits 2', async (t) => {
  const w = await history(t);
  const missing = await cli(w, ['verify', '--checkpoints', join(w.dir, 'nope.jsonl')]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /--checkpoints: cannot read/);
  writeFileSync(join(w.dir, 'c.jsonl'), '');
  const noKey = await cli(w, ['verify', '--checkpoints', join(w.dir, 'c.jsonl')]);
  t.equal(noKey.code, 2, 'no key in DATA_DIR and none given');
  t.match(noKey.stderr, /no signing key in DATA_DIR/);
  const badKey = await cli(w, ['verify', '--checkpoints', join(w.dir, 'c.jsonl'), '--public-key', join(w.dir, 'c.jsonl')]);
  t.equal(badKey.code, 2);
  t.match(badKey.stderr, /--public-key: cannot use/);
  t.equal((await cli(w, ['verify', '--public-key', 'x.pem'])).code, 2, '--public-key alone');
  t.equal((await cli(w, ['checkpoint', '--public-key', '--out', 'x'])).code, 2);
  t.equal((await cli(w, ['checkpoint', '--out', join(w.dir, 'no', 'such', 'dir.jsonl')])).code, 2);
});
