// Real processes for the hardening tests: `mining-ledger` under the test runner's TypeScript loader,
// on a free port, with tokens signed by the same secret. Every child is killed at teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { signToken, type Role } from '../../src/api/auth.js';
import { freePort } from '../support/net.js';

export { freePort };

export const JWT_SECRET = 'hardening-secret-that-is-long-enough-0123456789';
const CLI = fileURLToPath(new URL('../projections/fixtures/cli.ts', import.meta.url));

export function bearer(claims: { sub?: string; role?: Role }, ttlSeconds = 3600): Record<string, string> {
  return { authorization: `Bearer ${signToken({ ...claims, ttlSeconds }, Buffer.from(JWT_SECRET), Date.now())}` };
}

export interface Child {
  child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

// Children outlive a test process that is killed (a tap timeout): take them along.
const children = new Set<ChildProcess>();
const killAll = () => {
  for (const child of children) child.kill('SIGKILL');
};
process.once('exit', killAll);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(1);
  });
}

/** `mining-ledger <args>` as its own process. */
export function cli(t: Test, args: string[], env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, [...process.execArgv, CLI, ...args], {
    env: { ...process.env, JWT_SECRET, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const started = Date.now();
  let exitedAt = 0;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) => {
    child.once('exit', () => (exitedAt = Date.now()));
    child.once('close', (code, signal) => resolve({ code, signal, ms: (exitedAt || Date.now()) - started }));
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Resolves with how long `child` took to exit after SIGTERM; SIGKILLs it after `boundMs`. */
export async function terminate(c: Child, boundMs = 10_000): Promise<{ code: number | null; ms: number; killed: boolean }> {
  const sent = Date.now();
  c.child.kill('SIGTERM');
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    c.child.kill('SIGKILL');
  }, boundMs);
  const { code } = await c.exited;
  clearTimeout(timer);
  return { code, ms: Date.now() - sent, killed };
}

export interface Served extends Child {
  base: string;
  port: number;
}

/** `serve` on a free port; resolves once /healthz answers (or rejects with its stderr). */
export async function serve(t: Test, env: Record<string, string>, args: string[] = []): Promise<Served> {
  const port = await freePort();
  const c = cli(t, ['serve', ...args], { PORT: String(port), ...env });
  const base = `http://127.0.0.1:${port}`;
  let exited = false;
  void c.exited.then(() => (exited = true));
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited) throw new Error(`serve exited before answering: ${c.stderr()}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
  return { ...c, base, port };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a value other than undefined, or fails after `ms`. */
export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** fetch with a deadline, so a hung server fails the test instead of the test timing out. */
export async function request(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 20_000) });
}
