// Real `mining-ledger` processes for the scale-out suites: spawn a command, wait for a server to
// answer, mint tokens, and talk HTTP to the nodes.
import { spawn, type ChildProcess } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/main.js';
export { freePort } from '../support/net.js';
import { freePort } from '../support/net.js';

const cliScript = fileURLToPath(new URL('./fixtures/cli.ts', import.meta.url));

export const JWT_SECRET = 'scale-out-test-secret-0123456789-abcdefgh';

export interface Proc {
  child: ChildProcess;
  /** Resolves with the exit code (null when killed) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  output(): string;
}

/** Every process started here; whatever is still running when the test process exits is killed. */
const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

export function startCli(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [...process.execArgv, cliScript, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  started.add(child);
  child.once('close', () => started.delete(child));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, exited, output: () => `${stdout}\n${stderr}` };
}

/** Runs a command to its end. */
export async function runCliProcess(args: string[], env: Record<string, string>) {
  return startCli(args, env).exited;
}

export interface Node {
  name: string;
  base: string;
  env: Record<string, string>;
  proc: Proc;
}

/** Starts `serve` with these flags and waits (bounded) until /readyz answers 200. */
export async function startNode(name: string, flags: string[], env: Record<string, string>): Promise<Node> {
  const port = env.PORT ?? String(await freePort());
  const nodeEnv = { ...env, PORT: port, HOST: '127.0.0.1' };
  const proc = startCli(['serve', ...flags], nodeEnv);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  let ended = false;
  void proc.exited.then(() => (ended = true));
  for (;;) {
    if (ended) throw new Error(`${name} exited before it was ready:\n${proc.output()}`);
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.child.kill('SIGKILL');
      throw new Error(`${name} not ready within 120 s:\n${proc.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { name, base, env: nodeEnv, proc };
}

/** Stops a process with SIGTERM and waits for it. */
export async function stop(proc: Proc) {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
  return proc.exited;
}

export async function mintToken(args: string[], env: Record<string, string>): Promise<string> {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (chunk) => (out += chunk));
  const stderr = new PassThrough();
  stderr.resume();
  const code = await runCli(['token', ...args], { env: { JWT_SECRET, ...env }, stdout, stderr });
  if (code !== 0) throw new Error(`token exited ${code}`);
  return out.trim();
}
