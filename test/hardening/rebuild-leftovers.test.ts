// SPEC §15: `rebuild --swap` killed at any point leaves nothing a later run does not clean up.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { cli } from './helpers.js';

t.setTimeout(300_000);

t.test('a rebuild killed with -9 leaves scratch files; the next rebuild removes them, not a live one\'s', async (t) => {
  const dir = t.testdir();
  const env = { DATA_DIR: dir };
  t.equal((await cli(t, ['rebuild'], env).exited).code, 0, 'a first rebuild makes the store and read model');
  // A rebuild killed with -9: its pid is gone, its files stay.
  const killed = cli(t, ['rebuild', '--swap'], env);
  const deadPid = killed.child.pid!;
  killed.child.kill('SIGKILL');
  await killed.exited;
  const leftovers = [`read.db.rebuild-${deadPid}`, `read.db.rebuild-${deadPid}-journal`, `read.db.rebuild-${deadPid}.part-0`, `read.db.rebuild-${deadPid}.part-1`];
  for (const name of leftovers) writeFileSync(join(dir, name), 'scratch');
  const live = `read.db.rebuild-${process.pid}.part-0`;
  writeFileSync(join(dir, live), 'a rebuild still running');
  const next = cli(t, ['rebuild'], env);
  t.equal((await next.exited).code, 0, next.stderr());
  for (const name of leftovers) t.equal(existsSync(join(dir, name)), false, `${name} removed`);
  t.equal(existsSync(join(dir, live)), true, 'the scratch of a running process is kept');
});
