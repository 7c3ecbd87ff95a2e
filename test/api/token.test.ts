// `mining-ledger token`: minting with the same secret resolution as `serve`, and its usage errors.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { tokenVerifier } from '../../src/api/auth.js';
import { resolveSecret } from '../../src/api/secret.js';
import { runInProcess } from '../support/cli.js';

async function token(args: string[], env: Record<string, string>) {
  const { code, out, err } = await runInProcess(['token', ...args], env);
  return { code, out: out.trim(), err };
}

t.test('without JWT_SECRET the first token creates <DATA_DIR>/jwt-secret (0600); later ones reuse it', async (t) => {
  const dir = t.testdir();
  const env = { DATA_DIR: dir };
  const first = await token(['--sub', 'alice', '--ttl', '120'], env);
  t.equal(first.code, 0);
  t.match(first.err, /created a new secret/);
  const path = join(dir, 'jwt-secret');
  t.equal(statSync(path).mode & 0o777, 0o600);
  const secretText = readFileSync(path, 'utf8');
  const second = await token(['--role', 'auditor'], env);
  t.equal(second.code, 0);
  t.equal(second.err, '', 'no second creation');
  t.equal(readFileSync(path, 'utf8'), secretText);

  const resolved = resolveSecret({ jwtSecret: undefined, dataDir: dir });
  t.equal(resolved.source, 'file');
  const verifier = tokenVerifier(resolved.secret);
  const now = Date.now();
  const alice = verifier.verify(`Bearer ${first.out}`, now);
  t.equal(alice.sub, 'alice');
  t.equal(alice.role, undefined);
  t.ok(alice.exp - now / 1000 <= 120 && alice.exp - now / 1000 > 100, 'ttl honoured');
  t.equal(verifier.verify(`Bearer ${second.out}`, now).role, 'auditor');
});

t.test('JWT_SECRET, when set, signs the token and no file is created', async (t) => {
  const dir = t.testdir();
  const secret = 'x'.repeat(40);
  const res = await token(['--role', 'gateway'], { DATA_DIR: dir, JWT_SECRET: secret });
  t.equal(res.code, 0);
  t.equal(tokenVerifier(Buffer.from(secret)).verify(`Bearer ${res.out}`, Date.now()).role, 'gateway');
  t.throws(() => statSync(join(dir, 'jwt-secret')));
});

t.test('bad usage exits 2', async (t) => {
  const env = { DATA_DIR: t.testdir() };
  for (const args of [
    [], ['--sub', 'alice', '--role', 'admin'], ['--sub', '-bad'], ['--sub', 'a'.repeat(129)], ['--role', 'root'],
    ['--sub', 'alice', '--ttl', '0'], ['--sub', 'alice', '--ttl', 'abc'], ['--sub', 'alice', '--ttl', '1.5'], ['--sub'], ['--what'],
  ]) {
    const res = await token(args, env);
    t.equal(res.code, 2, args.join(' ') || '(no flags)');
    t.equal(res.out, '');
  }
  const short = await token(['--sub', 'alice'], { ...env, JWT_SECRET: 'short' });
  t.equal(short.code, 2, 'a JWT_SECRET under 32 characters is a configuration error');
});
