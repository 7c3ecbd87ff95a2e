// Shared by the operations tests: `serve` in-process on a free port, CLI runs with captured output,
// and a handler that writes into the same store file with a virtual clock (events in the past).
import { join } from 'node:path';
import type { Test } from 'tap';
import { uuidV7Generator, virtualClock, type VirtualClock } from '../../src/commands/clock.js';
import { createCommandHandler, type CommandHandler } from '../../src/commands/handler.js';
import { openSqliteStore, type SqliteEventStore } from '../../src/store/sqlite/store.js';
import { miningCodec, type MiningRecord } from '../../src/commands/codec.js';
import { runInProcess } from '../support/cli.js';
export { freePort } from '../support/net.js';

export const user = (id = 'app') => ({ actor: { kind: 'user' as const, id }, correlationId: 'ops-test' });

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(args: string[], env: Record<string, string>, stopSignal?: Promise<string>): Promise<Run> {
  const { code, out, err } = await runInProcess(args, env, stopSignal);
  return { code, stdout: out, stderr: err };
}

/** Starts `serve` and waits (bounded) until it answers; `stop()` sends it "SIGTERM" and awaits the exit. */
export async function serve(args: string[], env: Record<string, string>) {
  let signal!: () => void;
  const stopSignal = new Promise<string>((resolve) => (signal = () => resolve('SIGTERM')));
  const exited = cli(['serve', ...args], env, stopSignal);
  const base = `http://127.0.0.1:${env.PORT}`;
  for (let attempt = 0; ; attempt++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch (error) {
      if (attempt > 2400) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  return { base, exited, stop: async () => (signal(), exited) };
}

/** Polls until `check` holds (bounded): for another process's work, never for time to pass. */
export async function until(check: () => Promise<boolean> | boolean, what: string, attempts = 2400): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface Writer {
  store: SqliteEventStore<MiningRecord>;
  clock: VirtualClock;
  handler: CommandHandler;
}

/** A second handle on the store file that writes with a virtual clock, like another process would. */
export async function writer(t: Test, dir: string, start: number, heartbeatTimeoutMs = 300_000): Promise<Writer> {
  const store = await openSqliteStore({ codec: miningCodec, path: join(dir, 'events.db') });
  t.teardown(() => store.close());
  const clock = virtualClock(start);
  const settings = { rateUnitsPerHour: 25_000_000n, heartbeatTimeoutMs, maxSessionMs: 0, minHeartbeatIntervalMs: 0, sweepGraceMs: 0 };
  const handler = createCommandHandler({ store, clock, ids: uuidV7Generator(clock), settings: () => settings, backoff: async () => undefined });
  return { store, clock, handler };
}

export interface DoctorReport {
  ok: boolean;
  checks: { name: string; status: 'ok' | 'warn' | 'fail'; reason: string; action?: string }[];
}

export async function doctor(env: Record<string, string>): Promise<{ code: number; report: DoctorReport; stderr: string }> {
  const run = await cli(['doctor', '--json'], env);
  return { code: run.code, report: JSON.parse(run.stdout) as DoctorReport, stderr: run.stderr };
}

export const check = (report: DoctorReport, name: string) => report.checks.find((c) => c.name === name)!;
