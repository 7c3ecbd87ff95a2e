// The integrity check of an event-store file at start (SPEC §15 "Damaged store"): SQLite's
// `PRAGMA quick_check(N)` (b-tree structure, page and cell bounds, free list, record formats; not the
// per-index content check of integrity_check), in a child process with a time budget.
// Bounded two ways: at most `maxErrors` problems are collected (quick_check(N) stops after N), and
// after `budgetMs` the child is killed (SIGKILL: a native SQLite call cannot be interrupted from
// another thread) and the result is "cut short": the start goes on, and the log says so.
import { fork } from 'node:child_process';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StoreUnavailableError } from '../port.js';

export type IntegrityResult =
  | { kind: 'ok'; ms: number }
  | { kind: 'damaged'; errors: string[]; ms: number }
  /** Not finished within the budget, or could not run: the start goes on unchecked. */
  | { kind: 'cut-short'; ms: number; reason: string };

export interface IntegrityOptions {
  /** Give up after this long (ms). */
  budgetMs: number;
  /** quick_check(N): stop after this many problems (default 10). */
  maxErrors?: number;
}

/** SQLite's words for a damaged file: SQLITE_CORRUPT (and its extended codes), SQLITE_NOTADB. */
export function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')) return true;
  const message = error instanceof Error ? error.message : String(error);
  return /database disk image is malformed|SQLITE_CORRUPT|file is not a database/.test(message);
}

function childUrl(): URL {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./integrity-child${ext}`, import.meta.url);
}

export function checkIntegrity(path: string, options: IntegrityOptions): Promise<IntegrityResult> {
  const started = Date.now();
  const ms = () => Date.now() - started;
  return new Promise((resolve) => {
    const child = fork(fileURLToPath(childUrl()), [path, String(options.maxErrors ?? 10)], {
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      execArgv: process.execArgv,
    });
    let settled = false;
    const settle = (result: IntegrityResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle({ kind: 'cut-short', ms: ms(), reason: `not finished within ${options.budgetMs} ms` });
    }, options.budgetMs);
    child.on('message', (message: { kind: string; errors: string[] }) => {
      settle(message.errors.length === 0 ? { kind: 'ok', ms: ms() } : { kind: 'damaged', errors: message.errors, ms: ms() });
    });
    child.on('error', (error) => settle({ kind: 'cut-short', ms: ms(), reason: `could not run: ${error.message}` }));
    child.on('exit', (code, signal) => settle({ kind: 'cut-short', ms: ms(), reason: `ended without an answer (${signal ?? `exit ${code}`})` }));
  });
}

/**
 * A store file SQLite calls damaged: answered as 503 UNAVAILABLE (never 500). The message names the
 * file by its name and says what to do; `file`, the full path, goes to the log with the error.
 */
export class StoreDamagedError extends StoreUnavailableError {
  constructor(readonly file: string, reason: string) {
    super(`event store ${basename(file)} is damaged (${reason}): run mining-ledger verify, and restore a backup (docs/operations.md "Backup and restore")`);
  }
}
