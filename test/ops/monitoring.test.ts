// Monitoring artefacts against the running service: /metrics of a live serve (and of a sweeper)
// passes `promtool check metrics`; the alert rules pass `promtool test rules`; every metric the
// rules and the Grafana dashboard query is one the service exports (or node-exporter's, for disk).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import t from 'tap';
import { cli, freePort, serve, until } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const OPS = join(ROOT, 'ops');

function findPromtool(): string | undefined {
  if (process.env.PROMTOOL) return process.env.PROMTOOL;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'promtool'))) return join(dir, 'promtool');
  }
  return undefined;
}
const promtool = findPromtool();
const noPromtool = promtool ? false : 'promtool not found: set PROMTOOL or put promtool on PATH (.ci/setup.d/10-promtool.sh installs it)';

function runPromtool(args: string[], input?: string) {
  const run = spawnSync(promtool!, args, { cwd: join(OPS, 'prometheus'), input, encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, out: `${run.stdout ?? ''}${run.stderr ?? ''}` };
}

/** Sample names a scrape shows, with each histogram's and summary's family name. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      const [, name, kind] = type;
      names.add(name!);
      if (kind === 'histogram') for (const suffix of ['_bucket', '_count', '_sum']) names.add(name + suffix);
      if (kind === 'summary') for (const suffix of ['_count', '_sum']) names.add(name + suffix);
    }
  }
  return names;
}

/** The relay's figures, read from its module (it runs only against a Kafka broker). */
function relayNames(): string[] {
  const found = new Set<string>();
  const dir = join(ROOT, 'src', 'relay');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    for (const match of readFileSync(join(dir, file), 'utf8').matchAll(/name: '(mining_relay_[a-z0-9_]+)'/g)) {
      const base = match[1]!;
      found.add(base);
      for (const suffix of ['_bucket', '_count', '_sum']) found.add(base + suffix);
    }
  }
  // The names agreed with the relay's metrics work (the alert accepts either lag name), until it lands.
  for (const name of ['mining_relay_lag_events', 'mining_relay_lag_positions', 'mining_relay_publish_delay_seconds_bucket']) found.add(name);
  return [...found];
}

/** Metric names a PromQL expression refers to. */
function metricsIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""');
  return [...withoutStrings.matchAll(/\b((?:mining|http|node|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
}

async function scrape(url: string): Promise<string> {
  const answer = await fetch(url);
  if (answer.status !== 200) throw new Error(`${url}: ${answer.status}`);
  return answer.text();
}

t.test('live /metrics of serve, a follower serve and a sweeper; the rules and the dashboard query only those names', async (t) => {
  const dir = t.testdir();
  const env = { DATA_DIR: dir, PORT: String(await freePort()), LOG_LEVEL: 'silent', SWEEP_INTERVAL_MS: '50' };
  const server = await serve([], env);
  t.teardown(() => server.stop());
  const token = (await cli(['token', '--sub', 'alice'], env)).stdout.trim();
  const post = (command: string) => fetch(`${server.base}/v1/accounts/alice/mining/${command}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  t.equal((await post('start')).status, 201);
  t.equal((await post('heartbeat')).status, 200);
  t.equal((await post('bogus')).status, 404);
  await until(async () => /mining_sweeper_last_pass_timestamp_seconds [1-9]/.test(await scrape(`${server.base}/metrics`)), 'a sweep pass');
  const full = await scrape(`${server.base}/metrics`);
  t.match(full, /^mining_sessions_overdue 0$/m, 'serve with its sweeper: the sweeper counts overdue sessions');
  t.match(full, /^mining_store_append_duration_seconds_count\{outcome="ok"\} [1-9]/m, 'appends are timed');
  t.match(full, /^mining_projector_lag_seconds \d/m);

  const follower = await serve(['--no-sweeper', '--no-projector'], { ...env, PORT: String(await freePort()) });
  t.teardown(() => follower.stop());
  const followed = await scrape(`${follower.base}/metrics`);
  t.match(followed, /^mining_sessions_overdue 0$/m, 'without a sweeper, counted from the read model');
  t.match(followed, /^mining_projector_lag_seconds 0$/m);
  t.match(followed, /^mining_projector_lag_events 0$/m);

  const metricsPort = await freePort();
  let stop!: () => void;
  const sweeper = cli(['sweeper', '--metrics-port', String(metricsPort)], env, new Promise((resolve) => (stop = () => resolve('SIGTERM'))));
  let swept = '';
  await until(async () => {
    swept = await scrape(`http://127.0.0.1:${metricsPort}/metrics`).catch(() => '');
    return /mining_sweeper_last_pass_timestamp_seconds [1-9]/.test(swept);
  }, 'the sweeper process to pass');
  stop();
  t.equal((await sweeper).code, 0);
  t.match(swept, /^mining_sessions_overdue 0$/m);

  const exported = new Set([...exportedNames(full), ...exportedNames(followed), ...exportedNames(swept), ...relayNames()]);

  t.test('promtool check metrics finds nothing', { skip: noPromtool }, async (t) => {
    for (const [name, text] of [['serve', full], ['serve --no-sweeper --no-projector', followed], ['sweeper', swept]] as const) {
      const run = runPromtool(['check', 'metrics'], text);
      t.equal(run.code, 0, `${name}: ${run.out}`);
      t.equal(run.out.trim(), '', `${name}: no findings`);
    }
  });

  t.test('alert rules: promtool check and unit tests; every rule has a summary and a runbook; names exist', async (t) => {
    const rules = readFileSync(join(OPS, 'prometheus', 'alerts.yml'), 'utf8');
    const alerts = [...rules.matchAll(/^ {6}- alert: (\S+)$/gm)].map((m) => m[1]!);
    t.ok(alerts.length >= 6, `${alerts.length} rules`);
    for (const required of ['MiningSweeperBehind', 'MiningSweeperNotRunning', 'MiningProjectorLag', 'MiningHttp5xxRate', 'MiningStoreUnavailable', 'MiningDiskFillingUp', 'MiningRelayLag']) {
      t.ok(alerts.includes(required), required);
    }
    const blocks = rules.split(/^ {6}- alert: /m).slice(1);
    for (const block of blocks) {
      const name = block.split('\n')[0];
      t.match(block, /\n {10}summary: "[^"]+"/, `${name} has a summary`);
      t.match(block, /\n {10}runbook: "[^"]+"/, `${name} has a runbook line`);
      const expr = /expr: (\|\n(?: {10}.*\n)+|.*\n)/.exec(block)![1]!;
      for (const metric of metricsIn(expr)) {
        t.ok(exported.has(metric) || metric.startsWith('node_filesystem_'), `${name}: ${metric} is exported`);
      }
    }
    const tests = readFileSync(join(OPS, 'prometheus', 'alerts.test.yml'), 'utf8');
    for (const alert of alerts) t.match(tests, new RegExp(`alertname: ${alert}\\n[\\s\\S]*?exp_alerts:\\n +- exp_labels`), `${alert} is tested firing`);
  });

  t.test('promtool check rules and promtool test rules pass', { skip: noPromtool }, async (t) => {
    const checked = runPromtool(['check', 'rules', 'alerts.yml']);
    t.equal(checked.code, 0, checked.out);
    const tested = runPromtool(['test', 'rules', 'alerts.test.yml']);
    t.equal(tested.code, 0, tested.out);
    t.match(tested.out, /SUCCESS/);
  });

  t.test('grafana dashboard: valid dashboard JSON whose queries use exported metrics', async (t) => {
    const dashboard = JSON.parse(readFileSync(join(OPS, 'grafana', 'mining-ledger.json'), 'utf8')) as {
      title: string; uid: string; schemaVersion: number; panels: { id: number; title: string; type: string; gridPos: object; targets?: { expr: string; refId: string }[] }[];
      templating?: { list: { name: string; query?: unknown }[] };
    };
    t.type(dashboard.title, 'string');
    t.match(dashboard.uid, /^[A-Za-z0-9_-]{1,40}$/);
    t.ok(Number.isInteger(dashboard.schemaVersion) && dashboard.schemaVersion >= 30, 'schemaVersion');
    const ids = dashboard.panels.map((p) => p.id);
    t.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((target) => ({ panel: p.title, expr: target.expr, refId: target.refId })));
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      t.ok(panel.gridPos, `${panel.title}: gridPos`);
      t.ok((panel.targets ?? []).length > 0, `${panel.title}: has queries`);
    }
    const used = new Set<string>();
    for (const { panel, expr, refId } of exprs) {
      t.type(refId, 'string');
      const names = metricsIn(expr);
      t.ok(names.length > 0, `${panel}: ${expr} queries a metric`);
      for (const name of names) {
        used.add(name);
        t.ok(exported.has(name), `${panel}: ${name} is exported`);
      }
    }
    for (const figure of ['mining_heartbeats_total', 'http_request_duration_seconds_bucket', 'mining_sweeper_active_sessions', 'mining_sessions_overdue',
      'mining_projector_lag_events', 'mining_sweeper_stop_lag_seconds_bucket']) {
      t.ok(used.has(figure), `the dashboard shows ${figure}`);
    }
    t.ok([...used].some((n) => n.startsWith('mining_relay_')), 'the dashboard shows relay lag');
  });
});
