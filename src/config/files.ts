// Directories and files the service creates: private to its user (SPEC §15: directories 0700, store
// and read-model files 0600), and created without Node's recursive mkdir, which loops forever on a
// path it can never create (DATA_DIR=/proc/nope spun at 100 % CPU and ignored SIGTERM).
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Something the process needs at start could not be had (a directory, a file, a server): exit 2. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

export const DIRECTORY_MODE = 0o700;
export const FILE_MODE = 0o600;

/** Creates `dir` and any missing parents (mode 0700), one level at a time; throws the first failure. */
export function ensureDirectory(dir: string): void {
  const missing: string[] = [];
  for (let at = resolve(dir); !existsSync(at); at = dirname(at)) {
    missing.push(at);
    if (dirname(at) === at) break;
  }
  for (const path of missing.reverse()) {
    try {
      mkdirSync(path, { mode: DIRECTORY_MODE });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  if (!statSync(dir).isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
}

/** Makes sure `file` exists before SQLite opens it, so SQLite (and its -wal/-shm, which copy the mode) get 0600. */
export function ensurePrivateFile(file: string): void {
  ensureDirectory(dirname(file));
  if (existsSync(file)) return;
  closeSync(openSync(file, 'a', FILE_MODE));
}

/** One line about an error of any shape (an error crossing a worker boundary may be a plain object). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object') {
    const { message, code } = error as { message?: unknown; code?: unknown };
    if (typeof message === 'string') return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
    try {
      return JSON.stringify(error);
    } catch {
      return Object.prototype.toString.call(error);
    }
  }
  return String(error);
}

/** Flushes a file (or a directory, so a rename in it is durable) to disk. */
export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
