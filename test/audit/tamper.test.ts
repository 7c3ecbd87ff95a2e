// SPEC §12 tamper evidence against someone with write access to the SQLite file: whatever is
// changed behind the store's back, replay and verify name the first broken link and exit 1.
import t from 'tap';
import { cli, storedEvents, tamperStore } from './helpers.js';
import { mine, world } from '../projections/helpers.js';

const at = (revision: number) => `stream = 'mining-alice' AND revision = ${revision}`;
const TAMPERING: { name: string; sql: (path: string) => string; revision: number; what: RegExp }[] = [
  {
    name: "an event's data (a heartbeat moved by a minute)",
    sql: () => `UPDATE events SET data = json_set(data, '$.at', '2026-03-01T08:03:30.000Z') WHERE ${at(6)}`,
    revision: 6, what: /hashes to [0-9a-f]{64} \(its type, data or metadata was changed\)/,
  },
  {
    name: "an event's metadata: the actor",
    sql: () => `UPDATE events SET metadata = json_set(metadata, '$.actor.id', 'mallory') WHERE ${at(4)}`,
    revision: 4, what: /its type, data or metadata was changed/,
  },
  {
    name: "an event's metadata: recordedAt",
    sql: () => `UPDATE events SET metadata = json_set(metadata, '$.recordedAt', '2026-03-01T08:00:01.000Z') WHERE ${at(11)}`,
    revision: 11, what: /its type, data or metadata was changed/,
  },
  {
    name: 'a deleted heartbeat',
    sql: () => `DELETE FROM stream_index WHERE ${at(5)}; DELETE FROM events WHERE ${at(5)};`,
    revision: 6, what: /revision 6 follows revision 4: events are missing/,
  },
  {
    name: 'two heartbeats swapped (contents exchanged between revisions 2 and 3)',
    sql: (path) => {
      const [two, three] = storedEvents(path, 'mining-victim4').filter((e) => e.revision === 2 || e.revision === 3);
      const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
      return `UPDATE events SET data = ${q(three!.data)}, metadata = ${q(three!.metadata)} WHERE ${at(2)};
              UPDATE events SET data = ${q(two!.data)}, metadata = ${q(two!.metadata)} WHERE ${at(3)};`;
    },
    revision: 2, what: /prevHash is [0-9a-f]{64}, the event before it hashes to [0-9a-f]{64}/,
  },
  {
    name: 'a removed hash field after the chain began',
    sql: () => `UPDATE events SET metadata = json_remove(metadata, '$.hash') WHERE ${at(8)}`,
    revision: 8, what: /hash is missing after the chain began/,
  },
];

// One store, one account per kind of tampering (and one left alone): one verify finds them all.
t.test('each kind of tampering is caught by replay and by verify, with the stream, revision and what differs', async (t) => {
  const w = await world(t);
  const accounts = TAMPERING.map((_, i) => `victim${i}`);
  for (const account of [...accounts, 'clean']) await mine(w, account, 5, 'offline');
  for (const [i, tampering] of TAMPERING.entries()) {
    tamperStore(w.store.path, tampering.sql(w.store.path).replaceAll("'mining-alice'", `'mining-${accounts[i]}'`).replaceAll('mining-alice', `mining-${accounts[i]}`));
  }
  const verify = await cli(w, ['verify']);
  t.equal(verify.code, 1, 'verify exits 1');
  t.match(verify.stdout, new RegExp(`, ${TAMPERING.length} broken\n`), 'every tampered stream, and no other, is broken');
  for (const [i, tampering] of TAMPERING.entries()) {
    const stream = `mining-${accounts[i]}`;
    t.test(tampering.name, async (t) => {
      const line = verify.stdout.split('\n').find((l) => l.startsWith(`BROKEN ${stream}@`));
      t.match(line, new RegExp(`^BROKEN ${stream}@${tampering.revision} \\(position \\d+\\): `), 'verify names stream and revision');
      t.match(line, tampering.what, 'and what differs');
      const replay = await cli(w, ['replay', accounts[i]!, '--json']);
      t.equal(replay.code, 1, 'replay exits 1');
      t.match(JSON.parse(replay.stdout).chain.broken, { stream, revision: String(tampering.revision), what: tampering.what });
    });
  }
  const clean = await cli(w, ['replay', 'clean']);
  t.equal(clean.code, 0, 'the account left alone replays clean');
  t.match(clean.stdout, /hash chain intact \(12 events chained\)/);
});
