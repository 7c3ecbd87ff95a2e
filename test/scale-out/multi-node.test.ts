// Several nodes at once on one PostgreSQL store (TEST_PG_URL): three `serve --no-sweeper` API nodes,
// each with its own read model, and two sweepers (`--shard 0/2`, `--shard 1/2`). Heartbeats for the
// same accounts go through all three nodes; one API node and one sweeper are killed with SIGKILL
// mid-load and restarted. Afterwards: every acknowledged command is in the store, no session has two
// stops, no offline time is credited, every node's verify is clean and the read models agree.
import { join } from 'node:path';
import t from 'tap';
import type { RecordedEvent } from '../../src/store/port.js';
import { freshSchemaUrl, openPostgresStore, PG_SKIP, pgUrl } from '../store/postgres-helpers.js';
import { JWT_SECRET, mintToken, runCliProcess, startCli, startNode, stop, type Node, type Proc } from './helpers.js';

const T = 1500;
const ACCOUNTS = 12;
const LOAD_MS = 8000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Ack {
  account: string;
  type: 'MiningStarted' | 'Heartbeat' | 'MiningStopped';
  position: bigint;
  node: string;
}

interface SessionTruth {
  sessionId: string;
  startedAt: number;
  presence: number[];
  stops: { at: number; reason: string; actor: string }[];
}

/** An independent reading of one account's stream: its sessions, presence points and stops. */
function sessionsOf(events: RecordedEvent[]): SessionTruth[] {
  const sessions = new Map<string, SessionTruth>();
  for (const event of events) {
    const data = event.data as { sessionId: string; at: string; reason?: string };
    const at = Date.parse(data.at);
    if (event.type === 'MiningStarted') sessions.set(data.sessionId, { sessionId: data.sessionId, startedAt: at, presence: [at], stops: [] });
    const session = sessions.get(data.sessionId)!;
    if (event.type === 'Heartbeat') session.presence.push(at);
    if (event.type === 'MiningStopped') {
      const actor = (event.metadata as { actor?: { kind?: string } }).actor?.kind ?? '?';
      session.stops.push({ at, reason: data.reason!, actor });
    }
  }
  return [...sessions.values()];
}

/** Credited time by the rule of SPEC §2: gaps <= T between presence points (and a user stop). */
function creditedOf(session: SessionTruth): number {
  const points = [...session.presence];
  const stop = session.stops[0];
  if (stop?.reason === 'user') points.push(stop.at);
  let credited = 0;
  for (let i = 1; i < points.length; i++) {
    const gap = points[i]! - points[i - 1]!;
    if (gap <= T) credited += gap;
  }
  return credited;
}

if (!pgUrl) {
  t.comment(`multi-node suite SKIPPED: ${PG_SKIP}`);
  t.skip(`three API nodes and two sweepers on one PostgreSQL store (${PG_SKIP})`, () => {});
} else {
  t.setTimeout(300_000);
  t.test('three API nodes and two sharded sweepers on one store, one of each killed and restarted mid-load', async (t) => {
    const dir = t.testdir();
    const base = {
      EVENT_STORE_URL: freshSchemaUrl(t), JWT_SECRET, HEARTBEAT_INTERVAL_MS: '300', HEARTBEAT_TIMEOUT_MS: String(T),
      SWEEP_INTERVAL_MS: '100', SWEEP_GRACE_MS: '200', COMMAND_RATE_LIMIT_PER_MINUTE: '0',
    };
    const envOf = (name: string) => ({ ...base, DATA_DIR: join(dir, name) });
    const procs: Proc[] = [];
    t.teardown(async () => {
      for (const proc of procs) proc.child.kill('SIGKILL');
    });
    const startSweeperProc = (shard: string) => {
      const proc = startCli(['sweeper', '--shard', shard], envOf(`sweeper-${shard.replace('/', '-')}`));
      procs.push(proc);
      return proc;
    };
    const nodes: (Node | undefined)[] = await Promise.all(['node-0', 'node-1', 'node-2'].map((name) => startNode(name, ['--no-sweeper'], envOf(name))));
    procs.push(...nodes.map((node) => node!.proc));
    const sweepers = [startSweeperProc('0/2'), startSweeperProc('1/2')];
    const auth = { authorization: `Bearer ${await mintToken(['--role', 'gateway'], base)}`, 'content-type': 'application/json' };

    const acks: Ack[] = [];
    const statuses = new Map<number | string, number>();
    const count = (key: number | string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);
    let turn = 0;
    /** Sends a command through the next node in turn; a node that is down is skipped. */
    async function send(account: string, command: string, body?: object) {
      for (let tries = 0; tries < 6; tries++) {
        const node = nodes[turn++ % nodes.length];
        if (!node) continue;
        try {
          const response = await fetch(`${node.base}/v1/accounts/${account}/mining/${command}`, {
            method: 'POST', headers: auth, body: JSON.stringify(body ?? {}), signal: AbortSignal.timeout(5000),
          });
          count(response.status);
          return { status: response.status, node: node.name, body: (await response.json()) as Record<string, unknown> };
        } catch {
          count('unanswered');
        }
      }
      return undefined;
    }

    const loadStart = Date.now();
    const loadEnd = loadStart + LOAD_MS;
    async function drive(i: number) {
      const account = `acct-${i}`;
      let sessionId: string | undefined;
      const silentFrom = i % 4 === 0 ? loadStart + 1000 + i * 50 : Infinity;
      let silentDone = false;
      const userStopAt = i % 4 === 1 ? loadStart + 2500 + i * 40 : Infinity;
      let stopped = false;
      while (Date.now() < loadEnd) {
        if (!silentDone && Date.now() >= silentFrom) {
          silentDone = true;
          await sleep(T + 1200);
        }
        if (sessionId === undefined) {
          const answer = await send(account, 'start');
          if (answer && (answer.status === 201 || answer.status === 200)) {
            sessionId = (answer.body.session as { sessionId: string }).sessionId;
            if (answer.status === 201) acks.push({ account, type: 'MiningStarted', position: BigInt(answer.body.position as string), node: answer.node });
          }
        } else if (!stopped && Date.now() >= userStopAt) {
          stopped = true;
          const answer = await send(account, 'stop');
          if (answer?.status === 200 && (answer.body.session as { reason: string }).reason === 'user') {
            acks.push({ account, type: 'MiningStopped', position: BigInt(answer.body.position as string), node: answer.node });
          }
          sessionId = undefined;
        } else {
          const answer = await send(account, 'heartbeat', { sessionId });
          if (answer?.status === 200 && answer.body.recorded === true) {
            acks.push({ account, type: 'Heartbeat', position: BigInt(answer.body.position as string), node: answer.node });
          } else if (answer?.status === 409) {
            sessionId = undefined;
          }
        }
        await sleep(120 + (i % 5) * 20);
      }
    }

    async function chaos() {
      await sleep(2500);
      nodes[1]!.proc.child.kill('SIGKILL');
      const killedNode = nodes[1]!;
      nodes[1] = undefined;
      sweepers[0]!.child.kill('SIGKILL');
      await Promise.all([killedNode.proc.exited, sweepers[0]!.exited]);
      await sleep(500);
      sweepers[0] = startSweeperProc('0/2');
      const restarted = await startNode('node-1', ['--no-sweeper'], { ...killedNode.env });
      procs.push(restarted.proc);
      nodes[1] = restarted;
    }

    await Promise.all([...Array.from({ length: ACCOUNTS }, (_, i) => drive(i)), chaos()]);
    t.ok(acks.length >= ACCOUNTS * 2, `${acks.length} acknowledged commands; answers: ${JSON.stringify(Object.fromEntries(statuses))}`);
    t.ok(new Set(acks.map((a) => a.node)).size === 3, 'every node acknowledged commands');
    t.equal(statuses.get(500) ?? 0, 0, 'no 500');

    // Everyone went silent: the sweepers (one of them restarted) stop every session at its deadline.
    const store = await openPostgresStore(base.EVENT_STORE_URL);
    t.teardown(() => store.close());
    const streamOf = async (account: string) => {
      const events: RecordedEvent[] = [];
      for await (const event of store.readStream(`mining-${account}`)) events.push(event);
      return events;
    };
    const accounts = Array.from({ length: ACCOUNTS }, (_, i) => `acct-${i}`);
    for (let waited = 0; ; waited += 200) {
      const open = (await Promise.all(accounts.map(streamOf))).filter((events) => events[events.length - 1]?.type !== 'MiningStopped');
      if (open.length === 0) break;
      if (waited > 30_000) throw new Error(`${open.length} sessions still open; sweeper 0: ${sweepers[0]!.output()}`);
      await sleep(200);
    }

    const byPosition = new Map<bigint, RecordedEvent>();
    for await (const event of store.readAll({ prefix: 'mining-' })) byPosition.set(event.position, event);
    const lost = acks.filter((ack) => {
      const event = byPosition.get(ack.position);
      return event?.stream !== `mining-${ack.account}` || event.type !== ack.type;
    });
    t.same(lost, [], 'every acknowledged command is in the store, at the position it was acknowledged with');

    const truths = new Map<string, SessionTruth[]>();
    for (const account of accounts) truths.set(account, sessionsOf(await streamOf(account)));
    const allSessions = [...truths.values()].flat();
    t.same(allSessions.filter((s) => s.stops.length !== 1).map((s) => s.sessionId), [], 'every session has exactly one stop');
    const lateStops = allSessions.filter((s) => {
      const stop = s.stops[0]!;
      return stop.reason === 'timeout' && stop.at !== s.presence[s.presence.length - 1]! + T;
    });
    t.same(lateStops, [], 'every timeout stop is at its deadline: last presence + T');
    t.ok(allSessions.some((s) => s.stops[0]!.actor === 'sweeper'), 'the sweepers stopped sessions');
    t.ok(allSessions.length > ACCOUNTS, `${allSessions.length} sessions, some restarted after a silence or a stop`);

    // The nodes' read models agree with each other and with the stream; nothing offline credited.
    const head = await store.headPosition();
    const views = await Promise.all(nodes.map(async (node) => Promise.all(accounts.map(async (account) => {
      const headers = { authorization: auth.authorization };
      const summary = await (await fetch(`${node!.base}/v1/accounts/${account}?minPosition=${String(head)}`, { headers })).json() as Record<string, unknown>;
      const sessions = await (await fetch(`${node!.base}/v1/accounts/${account}/sessions?limit=100`, { headers })).json() as { sessions: { sessionId: string; creditedMs: number }[] };
      return { account, balanceUnits: summary.balanceUnits, creditedMs: summary.creditedMs, position: summary.position, sessions: sessions.sessions };
    }))));
    t.same(views[1], views[0], 'node-1 (restarted) agrees with node-0');
    t.same(views[2], views[0], 'node-2 agrees with node-0');
    const wrongCredit = views[0]!.flatMap((view) => view.sessions.filter((s) => {
      const truth = truths.get(view.account)!.find((x) => x.sessionId === s.sessionId);
      return !truth || creditedOf(truth) !== s.creditedMs;
    }).map((s) => `${view.account}/${s.sessionId}`));
    t.same(wrongCredit, [], 'every session is credited exactly the gaps <= T between its presence points: no offline time');

    for (const node of nodes) t.equal((await stop(node!.proc)).code, 0, `${node!.name} stops cleanly`);
    for (const sweeper of sweepers) t.equal((await stop(sweeper)).code, 0, 'sweeper stops cleanly');
    const verified = await Promise.all(nodes.map((node) => runCliProcess(['verify'], node!.env)));
    verified.forEach((result, i) => t.equal(result.code, 0, `node-${i} verify: ${result.stdout.replace(/\s+/g, ' ')}${result.stderr}`));
  });
}
