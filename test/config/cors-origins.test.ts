// CORS_ORIGINS (SPEC §13): comma-separated exact origins; wildcards and anything that is not an
// origin stop the process with exit 2, naming the variable.
import { PassThrough } from 'node:stream';
import t from 'tap';
import { runCli } from '../../src/cli/main.js';
import { ConfigError, loadConfig, parseCorsOrigins } from '../../src/config/config.js';

t.test('exact origins, trimmed and de-duplicated; default none', async (t) => {
  t.same(parseCorsOrigins(''), []);
  t.same(parseCorsOrigins(' https://app.example.com , http://localhost:5173,https://app.example.com '), ['https://app.example.com', 'http://localhost:5173']);
  t.same(parseCorsOrigins('http://[::1]:8080'), ['http://[::1]:8080']);
  const dir = t.testdir();
  t.same(loadConfig({ DATA_DIR: dir }).corsOrigins, []);
  t.same(loadConfig({ DATA_DIR: dir, CORS_ORIGINS: 'https://a.example' }).corsOrigins, ['https://a.example']);
});

t.test('wildcards, paths, other schemes and non-canonical spellings are refused, naming the variable', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['*', /CORS_ORIGINS: "\*" is a wildcard/],
    ['https://*.example.com', /wildcard/],
    ['https://app.example.com/', /not an origin.*did you mean https:\/\/app\.example\.com\?/],
    ['https://app.example.com/path', /not an origin/],
    ['https://App.Example.com', /did you mean https:\/\/app\.example\.com/],
    ['https://app.example.com:443', /did you mean https:\/\/app\.example\.com\?/],
    ['app.example.com', /not an origin/],
    ['file:///etc/passwd', /not an origin: scheme/],
    ['null', /not an origin/],
  ];
  for (const [value, message] of cases) t.throws(() => parseCorsOrigins(value), { name: 'ConfigError', message }, value);
  t.throws(() => loadConfig({ DATA_DIR: t.testdir(), CORS_ORIGINS: '*' }), ConfigError);
});

t.test('serve with a bad CORS_ORIGINS (or --cors-origins) exits 2 and says which variable', async (t) => {
  for (const [args, env] of [[[], { CORS_ORIGINS: '*' }], [['--cors-origins', 'https://x.example/'], {}]] as const) {
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (c) => (err += c));
    const code = await runCli(['serve', ...args], { env: { DATA_DIR: t.testdir(), PORT: '0', ...env }, stdout: new PassThrough(), stderr });
    t.equal(code, 2);
    t.match(err, /invalid configuration: CORS_ORIGINS/);
  }
});
