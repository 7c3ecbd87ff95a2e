// The command line run in this process (runCli), its output captured: for tests that check exit codes
// and messages without the cost of a child process.
import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/main.js';

export interface InProcessRun {
  code: number;
  out: string;
  err: string;
}

export async function runInProcess(argv: string[], env: NodeJS.ProcessEnv, stopSignal?: Promise<string>): Promise<InProcessRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => (out += chunk));
  stderr.on('data', (chunk) => (err += chunk));
  const code = await runCli(argv, { env, stdout, stderr, ...(stopSignal ? { stopSignal } : {}) });
  return { code, out, err };
}
