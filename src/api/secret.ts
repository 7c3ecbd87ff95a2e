// The signing secret: JWT_SECRET when set, otherwise `<DATA_DIR>/jwt-secret`, created once with
// mode 0600. `serve` and `token` resolve it the same way, so a minted token works with the server.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/config.js';
import { ensureDirectory } from '../config/files.js';

export const SECRET_FILE = 'jwt-secret';
const MIN_SECRET_LENGTH = 32;

export interface ResolvedSecret {
  secret: Buffer;
  source: 'env' | 'file' | 'created';
  /** The file, when the secret lives in the data directory. */
  path?: string;
  /** The file is readable by others than its owner. */
  looseMode?: boolean;
}

function readSecretFile(path: string): ResolvedSecret {
  const text = readFileSync(path, 'utf8').trim();
  if (text.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`JWT_SECRET: ${path} holds fewer than ${MIN_SECRET_LENGTH} characters; delete it or set JWT_SECRET`);
  }
  const looseMode = (statSync(path).mode & 0o077) !== 0;
  return { secret: Buffer.from(text, 'utf8'), source: 'file', path, looseMode };
}

/** Writes aside and links into place: a concurrent reader sees no file or a whole one, never half. */
function createSecretFile(path: string): boolean {
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const fd = openSync(aside, 'wx', 0o600);
  try {
    writeSync(fd, `${randomBytes(32).toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(aside, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(aside);
  }
}

export function resolveSecret(options: { jwtSecret: string | undefined; dataDir: string }): ResolvedSecret {
  if (options.jwtSecret !== undefined) return { secret: Buffer.from(options.jwtSecret, 'utf8'), source: 'env' };
  const path = join(options.dataDir, SECRET_FILE);
  try {
    return readSecretFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw asConfigError(error, path);
  }
  try {
    ensureDirectory(options.dataDir);
    const created = createSecretFile(path);
    const resolved = readSecretFile(path);
    return created ? { ...resolved, source: 'created' } : resolved;
  } catch (error) {
    throw asConfigError(error, path);
  }
}

function asConfigError(error: unknown, path: string): Error {
  if (error instanceof ConfigError) return error;
  return new ConfigError(`JWT_SECRET is unset and ${path} cannot be used: ${(error as Error).message}`);
}
