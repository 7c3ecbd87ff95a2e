// `doctor`: the deployment checklist as checks. Each says ok / warn / fail in one line and, for a
// failure, what to do. Nothing here writes: the store and the read model are opened read-only.
import { accessSync, constants, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SECRET_FILE } from '../api/secret.js';
import type { Config } from '../config/config.js';
import { streamOf } from '../domain/events.js';
import { overdueSessions } from './overdue.js';
import type { ReadModelProbe } from './read-model-probe.js';
import type { StoreProbe } from './store-probe.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  reason: string;
  /** What to do about a failure (or a warning). */
  action?: string;
}

export interface DoctorInput {
  config: Config;
  /** The store, or why it could not be opened. */
  store: StoreProbe | Error;
  /** The read model, undefined when there is no file yet, or why it could not be opened. */
  readModel: ReadModelProbe | Error | undefined;
  now: () => number;
  /** How long a store call may take before it counts as not answering (ms). */
  storeTimeoutMs?: number;
}

/** Sessions left open this long after their deadline mean no sweeper runs (SPEC §14). */
export function sweeperSlackMs(config: Pick<Config, 'sweepGraceMs' | 'sweepIntervalMs'>): number {
  return config.sweepGraceMs + 10 * config.sweepIntervalMs;
}

/** Unapplied events older than this mean the projector is not running or is stuck. */
const PROJECTOR_STALL_MS = 60_000;
const PROJECTOR_WARN_MS = 5_000;
/** The most overdue sessions confirmed against the store one by one. */
const MAX_CONFIRMED = 10_000;
const GiB = 1024 ** 3;

const ok = (name: string, reason: string): CheckResult => ({ name, status: 'ok', reason });
const warn = (name: string, reason: string, action?: string): CheckResult => ({ name, status: 'warn', reason, ...(action ? { action } : {}) });
const fail = (name: string, reason: string, action: string): CheckResult => ({ name, status: 'fail', reason, action });

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function checkConfiguration(config: Config): CheckResult {
  const parts = [
    `store ${config.eventStoreUrl.split(':')[0]}`, `HEARTBEAT_TIMEOUT_MS ${config.heartbeatTimeoutMs}`,
    `SWEEP_INTERVAL_MS ${config.sweepIntervalMs}`, `SWEEP_GRACE_MS ${config.sweepGraceMs}`,
  ];
  // One lost heartbeat should not end a session: clients need room for a retry inside the timeout.
  if (config.heartbeatIntervalMs * 2 > config.heartbeatTimeoutMs) {
    return warn('configuration', `valid, but HEARTBEAT_INTERVAL_MS ${config.heartbeatIntervalMs} is more than half of HEARTBEAT_TIMEOUT_MS ${config.heartbeatTimeoutMs}: one late heartbeat ends a session`,
      'set HEARTBEAT_INTERVAL_MS to at most a third of HEARTBEAT_TIMEOUT_MS');
  }
  return ok('configuration', `valid (${parts.join(', ')})`);
}

export async function checkStore(input: DoctorInput): Promise<{ result: CheckResult; head?: bigint }> {
  const { store } = input;
  if (store instanceof Error) {
    return { result: fail('store', `${input.config.eventStoreUrl.split(':')[0]} store does not answer: ${store.message}`, 'start the store server or fix EVENT_STORE_URL') };
  }
  try {
    const head = await withTimeout(store.head(), input.storeTimeoutMs ?? 5000);
    return { result: ok('store', `${store.kind} store answers: last position ${head}`), head };
  } catch (error) {
    return { result: fail('store', `${store.kind} store does not answer: ${(error as Error).message}`, 'start the store server or fix EVENT_STORE_URL') };
  }
}

export function checkDataDir(config: Config): CheckResult {
  const dir = config.dataDir;
  let mode: number;
  try {
    mode = statSync(dir).mode;
    accessSync(dir, constants.W_OK);
  } catch (error) {
    return fail('data directory', `${dir} is not writable: ${(error as Error).message}`, `create ${dir} for the service user (mode 0700) or set DATA_DIR`);
  }
  if ((mode & 0o077) !== 0) {
    return warn('data directory', `${dir} is writable, but open to other users (mode ${(mode & 0o777).toString(8)})`, `chmod 700 ${dir}`);
  }
  return ok('data directory', `${dir} is writable (mode ${(mode & 0o777).toString(8)})`);
}

export async function checkReadModel(input: DoctorInput, head: bigint | undefined): Promise<CheckResult> {
  const { readModel } = input;
  if (readModel instanceof Error) {
    return fail('read model', `${input.config.readModelPath} cannot be read: ${readModel.message}`, 'stop the service and run `mining-ledger rebuild`');
  }
  if (!readModel) {
    return warn('read model', `no read model at ${input.config.readModelPath} yet`, 'start `serve` or `project` (they create it), or run `rebuild`');
  }
  const checkpoint = readModel.checkpoint();
  if (head === undefined || input.store instanceof Error) return warn('read model', `checkpoint at ${checkpoint}; lag unknown: the store does not answer`);
  if (checkpoint > head) {
    return fail('read model', `checkpoint ${checkpoint} is past the store's last position ${head} (a restored backup or a replaced events file)`,
      'stop the service and run `mining-ledger rebuild`');
  }
  const lag = head - checkpoint;
  if (lag === 0n) return ok('read model', `caught up at position ${checkpoint}`);
  const firstUnapplied = await input.store.firstRecordedAfter(checkpoint);
  const ageMs = firstUnapplied === undefined ? 0 : Math.max(0, input.now() - firstUnapplied);
  const behind = `${lag} events behind the store, the oldest recorded ${seconds(ageMs)} ago`;
  if (ageMs > PROJECTOR_STALL_MS) return fail('read model', `${behind}: no projector is running, or it is stuck`, 'start `serve` or `project`; see its log');
  if (ageMs > PROJECTOR_WARN_MS) return warn('read model', behind, 'watch mining_projector_lag_seconds; see the projector log');
  return ok('read model', `${behind} (catching up)`);
}

export function checkSecret(config: Config): CheckResult {
  if (config.jwtSecret !== undefined) return ok('secret', 'JWT_SECRET is set in the environment');
  const path = join(config.dataDir, SECRET_FILE);
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    return warn('secret', `JWT_SECRET is unset and ${path} does not exist yet`, '`serve` creates it (mode 0600) on first start, or set JWT_SECRET');
  }
  if ((mode & 0o077) !== 0) return fail('secret', `${path} is readable by other users (mode ${(mode & 0o777).toString(8)})`, `chmod 600 ${path}`);
  return ok('secret', `${path} has mode ${(mode & 0o777).toString(8)}`);
}

export async function checkClock(input: DoctorInput): Promise<CheckResult> {
  const now = input.now();
  let last: number | null | undefined;
  let source = "the store's last event";
  if (!(input.store instanceof Error)) {
    const event = await input.store.lastEvent().catch(() => undefined);
    if (event === null) return ok('clock', 'the store is empty: nothing to compare with');
    last = event?.recordedAt;
  }
  if (last === undefined && input.readModel && !(input.readModel instanceof Error)) {
    last = input.readModel.lastEventAt();
    source = "the read model's newest event (this store is not read backwards)";
  }
  if (last === undefined || last === null) return warn('clock', 'cannot compare: no event time is readable here');
  const aheadMs = last - now;
  if (aheadMs > 1000) {
    return fail('clock', `this machine's clock is ${seconds(aheadMs)} behind ${source}: it was set back, or another node's runs ahead`,
      'fix time synchronisation (NTP); streams clamp time to their last event until the clock catches up (docs/domain.md)');
  }
  return ok('clock', `${source} is ${seconds(Math.max(0, -aheadMs))} old`);
}

export function checkDisk(config: Config): CheckResult {
  let stats;
  try {
    stats = statfsSync(config.dataDir);
  } catch (error) {
    return warn('disk', `cannot read free space of ${config.dataDir}: ${(error as Error).message}`);
  }
  const free = stats.bavail * stats.bsize;
  const share = stats.blocks > 0 ? stats.bavail / stats.blocks : 0;
  const text = `${(free / GiB).toFixed(1)} GiB free (${(share * 100).toFixed(0)} %) under ${config.dataDir}`;
  if (share < 0.05 || free < 0.25 * GiB) return fail('disk', text, 'free space or grow the volume: a full disk makes the store refuse appends (503)');
  if (share < 0.15 || free < 2 * GiB) return warn('disk', text, 'plan more space; the events file only grows');
  return ok('disk', text);
}

export async function checkSweeper(input: DoctorInput): Promise<CheckResult> {
  const { readModel, config } = input;
  if (!readModel || readModel instanceof Error) return warn('sweeper', 'cannot check: no read model to list active sessions from', 'start `serve` or `project`');
  const slack = sweeperSlackMs(config);
  const now = input.now();
  let overdue = 0;
  let unconfirmed = 0;
  let oldest = Infinity;
  const store = input.store instanceof Error ? undefined : input.store;
  for await (const session of overdueSessions((options) => readModel.queries.activeSessions(options), now - slack)) {
    // The read model may lag: a session counts only when the store holds nothing newer for its stream.
    const projected = readModel.queries.accountRow(session.accountId)?.stream_revision ?? null;
    if (store && overdue + unconfirmed < MAX_CONFIRMED) {
      const actual = await store.streamRevision(streamOf(session.accountId));
      if (actual === 'no_stream' || projected === null || actual !== projected) {
        unconfirmed++;
        continue;
      }
    }
    overdue++;
    oldest = Math.min(oldest, session.deadline);
  }
  const rule = `deadline + SWEEP_GRACE_MS + 10 × SWEEP_INTERVAL_MS (${slack} ms)`;
  if (overdue > 0) {
    return fail('sweeper', `${overdue} session${overdue === 1 ? ' is' : 's are'} past ${rule} and not stopped (the oldest deadline ${seconds(now - oldest)} ago): no sweeper is running`,
      'start `mining-ledger sweeper` (or `serve` without --no-sweeper) and watch mining_sessions_overdue fall to 0');
  }
  const active = readModel.activeCount();
  const note = unconfirmed > 0 ? `; ${unconfirmed} more the read model still shows open have newer events in the store` : '';
  return ok('sweeper', `no session is past ${rule} (${active} active)${note}`);
}

/** Every check's name, in the order they run; `doctor --check` takes them with dashes for spaces. */
export const CHECK_NAMES = ['configuration', 'store', 'data directory', 'read model', 'secret', 'clock', 'disk', 'sweeper'] as const;

/** Runs every check, or only those named in `only` (a container's healthcheck asks for its own). */
export async function runDoctor(input: DoctorInput, only?: ReadonlySet<string>): Promise<CheckResult[]> {
  const wanted = (name: string) => only === undefined || only.has(name);
  const { result: store, head } = await checkStore(input);
  const checks: [string, () => CheckResult | Promise<CheckResult>][] = [
    ['configuration', () => checkConfiguration(input.config)],
    ['store', () => store],
    ['data directory', () => checkDataDir(input.config)],
    ['read model', () => checkReadModel(input, head)],
    ['secret', () => checkSecret(input.config)],
    ['clock', () => checkClock(input)],
    ['disk', () => checkDisk(input.config)],
    ['sweeper', () => checkSweeper(input)],
  ];
  const results: CheckResult[] = [];
  for (const [name, run] of checks) if (wanted(name)) results.push(await run());
  return results;
}
