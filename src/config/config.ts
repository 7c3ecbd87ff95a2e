// The one place that reads the environment. Every value is validated; a bad one names its variable.
import { accessSync, constants } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MoneyError, parseTokenAmount } from '../domain/money.js';
import { ensureDirectory } from './files.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  dataDir: string;
  eventStoreUrl: string;
  readModelPath: string;
  host: string;
  port: number;
  jwtSecret: string | undefined;
  ratePerHour: string;
  rateUnitsPerHour: bigint;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  maxSessionMs: number;
  minHeartbeatIntervalMs: number;
  sweepIntervalMs: number;
  sweepGraceMs: number;
  commandRateLimitPerMinute: number;
  kafkaBrokers: string[];
  kafkaTopic: string;
  logLevel: LogLevel;
  /** CORS_ORIGINS: exact origins (scheme://host[:port]) whose pages may call the API. */
  corsOrigins: string[];
  /** AUDIT_CONCURRENCY: audits one process runs at once (SPEC §15). */
  auditConcurrency: number;
  /** MAX_CONNECTIONS: open sockets one `serve` accepts (SPEC §15). */
  maxConnections: number;
  /** SHUTDOWN_DRAIN_MS: how long SIGTERM waits for requests in flight before closing (SPEC §15). */
  shutdownDrainMs: number;
  /** INTEGRITY_CHECK_MS: time budget of `PRAGMA quick_check` on events.db at start; 0 = off (SPEC §15). */
  integrityCheckMs: number;
}

/** Every variable of SPEC §6; each may also be given as a flag: PORT → --port. */
export const CONFIG_VARIABLES = [
  'EVENT_STORE_URL', 'READ_MODEL_PATH', 'DATA_DIR', 'HOST', 'PORT', 'JWT_SECRET', 'MINING_RATE_PER_HOUR',
  'HEARTBEAT_INTERVAL_MS', 'HEARTBEAT_TIMEOUT_MS', 'MAX_SESSION_MS', 'MIN_HEARTBEAT_INTERVAL_MS',
  'SWEEP_INTERVAL_MS', 'SWEEP_GRACE_MS', 'COMMAND_RATE_LIMIT_PER_MINUTE', 'KAFKA_BROKERS', 'KAFKA_TOPIC', 'LOG_LEVEL',
  'CORS_ORIGINS',
  'AUDIT_CONCURRENCY', 'MAX_CONNECTIONS',
  'SHUTDOWN_DRAIN_MS', 'INTEGRITY_CHECK_MS',
] as const;
export type ConfigVariable = (typeof CONFIG_VARIABLES)[number];

export function flagOf(variable: ConfigVariable): string {
  return variable.toLowerCase().replace(/_/g, '-');
}

type Source = Partial<Record<string, string | undefined>>;

function integer(source: Source, name: ConfigVariable, fallback: number, min: number, max: number): number {
  const raw = source[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?[0-9]+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function text(source: Source, name: ConfigVariable, fallback: string): string {
  const raw = source[name];
  return raw === undefined || raw === '' ? fallback : raw;
}

function writablePath(name: ConfigVariable, file: string, readOnly = false): void {
  // Read-only tools (doctor) create nothing; they check the directories themselves.
  if (readOnly) return;
  const dir = dirname(file);
  try {
    ensureDirectory(dir);
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new ConfigError(`${name}: directory ${dir} is not writable (${(error as Error).message})`);
  }
}

/** sqlite:<path>, esdb://…, esdb+discover://… or postgres://… (postgresql://…) */
export function validateEventStoreUrl(url: string): void {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path.length === 0) throw new ConfigError('EVENT_STORE_URL: sqlite: needs a path, e.g. sqlite:./data/events.db');
    // An in-memory database would lose every acknowledged event at exit: a store must be a file.
    if (path === ':memory:' || path.startsWith('file:')) throw new ConfigError(`EVENT_STORE_URL: "${url}" is not a file path; a store must be a file`);
    return;
  }
  const esdb = /^esdb(\+discover)?:\/\/(?:[^@/\s]*@)?([^/?\s]+)/.exec(url);
  if (esdb) {
    for (const host of esdb[2]!.split(',')) {
      const port = /:([0-9]+)$/.exec(host)?.[1];
      if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
        throw new ConfigError(`EVENT_STORE_URL: port ${port} in "${url}" is not between 1 and 65535`);
      }
      if (/:[^0-9\]]*$/.test(host) && !/\]$/.test(host) && port === undefined) throw new ConfigError(`EVENT_STORE_URL: "${host}" has no valid port`);
    }
    return;
  }
  if (/^postgres(ql)?:\/\/[^/\s]+/.test(url)) return;
  throw new ConfigError(`EVENT_STORE_URL must start with sqlite:, esdb://, esdb+discover:// or postgres://, got "${url}"`);
}

/** Comma-separated exact origins, as a browser sends them in `Origin`; never a wildcard. */
export function parseCorsOrigins(raw: string): string[] {
  const origins = raw.split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of origins) {
    if (origin.includes('*')) throw new ConfigError(`CORS_ORIGINS: "${origin}" is a wildcard; list exact origins, e.g. https://app.example.com`);
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin) {
      const hint = url && (url.protocol === 'http:' || url.protocol === 'https:') ? ` (did you mean ${url.origin}?)` : '';
      throw new ConfigError(`CORS_ORIGINS: "${origin}" is not an origin: scheme://host[:port], no path or trailing slash${hint}`);
    }
  }
  return [...new Set(origins)];
}

export function loadConfig(source: Source = process.env, options: { readOnly?: boolean } = {}): Config {
  const readOnly = options.readOnly === true;
  const dataDir = resolve(text(source, 'DATA_DIR', './data'));
  // Checked under its own name first: the default store and read-model paths live inside it.
  writablePath('DATA_DIR', join(dataDir, 'events.db'), readOnly);
  const eventStoreUrl = text(source, 'EVENT_STORE_URL', `sqlite:${join(dataDir, 'events.db')}`);
  validateEventStoreUrl(eventStoreUrl);
  if (eventStoreUrl.startsWith('sqlite:')) writablePath('EVENT_STORE_URL', resolve(eventStoreUrl.slice('sqlite:'.length)), readOnly);
  const readModelPath = resolve(text(source, 'READ_MODEL_PATH', join(dataDir, 'read.db')));
  writablePath('READ_MODEL_PATH', readModelPath, readOnly);

  const ratePerHour = text(source, 'MINING_RATE_PER_HOUR', '0.25');
  let rateUnitsPerHour: bigint;
  try {
    rateUnitsPerHour = parseTokenAmount(ratePerHour);
  } catch (error) {
    if (error instanceof MoneyError) throw new ConfigError(`MINING_RATE_PER_HOUR: ${error.message}`);
    throw error;
  }
  const jwtSecret = source.JWT_SECRET === undefined || source.JWT_SECRET === '' ? undefined : source.JWT_SECRET;
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    throw new ConfigError('JWT_SECRET must be at least 32 characters (or unset: serve then creates one)');
  }
  const logLevel = text(source, 'LOG_LEVEL', 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const brokers = text(source, 'KAFKA_BROKERS', '');
  const kafkaBrokers = brokers.split(',').map((b) => b.trim()).filter(Boolean);
  for (const broker of kafkaBrokers) {
    if (!/^[A-Za-z0-9.\-[\]:]+:[0-9]{1,5}$/.test(broker)) throw new ConfigError(`KAFKA_BROKERS: "${broker}" is not host:port`);
  }
  const kafkaTopic = text(source, 'KAFKA_TOPIC', 'mining.events');
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(kafkaTopic)) throw new ConfigError(`KAFKA_TOPIC: "${kafkaTopic}" is not a valid topic name`);
  const host = text(source, 'HOST', '127.0.0.1');
  if (!/^[A-Za-z0-9.:\-[\]]+$/.test(host)) throw new ConfigError(`HOST: "${host}" is not a host name or address`);

  const day = 86_400_000;
  const heartbeatTimeoutMs = integer(source, 'HEARTBEAT_TIMEOUT_MS', 300_000, 1, day);
  const heartbeatIntervalMs = integer(source, 'HEARTBEAT_INTERVAL_MS', 30_000, 1, day);
  const minHeartbeatIntervalMs = integer(source, 'MIN_HEARTBEAT_INTERVAL_MS', 0, 0, day);
  // A cadence at or past the timeout would expire every well-behaved client between two beats.
  if (heartbeatIntervalMs >= heartbeatTimeoutMs) {
    throw new ConfigError(`HEARTBEAT_INTERVAL_MS (${heartbeatIntervalMs}) must be less than HEARTBEAT_TIMEOUT_MS (${heartbeatTimeoutMs})`);
  }
  if (minHeartbeatIntervalMs >= heartbeatTimeoutMs) {
    throw new ConfigError(`MIN_HEARTBEAT_INTERVAL_MS (${minHeartbeatIntervalMs}) must be less than HEARTBEAT_TIMEOUT_MS (${heartbeatTimeoutMs})`);
  }
  return {
    dataDir,
    eventStoreUrl,
    readModelPath,
    host,
    port: integer(source, 'PORT', 3000, 0, 65535),
    jwtSecret,
    ratePerHour,
    rateUnitsPerHour,
    heartbeatIntervalMs,
    heartbeatTimeoutMs,
    maxSessionMs: integer(source, 'MAX_SESSION_MS', 0, 0, 365 * day),
    minHeartbeatIntervalMs,
    sweepIntervalMs: integer(source, 'SWEEP_INTERVAL_MS', 1000, 10, day),
    sweepGraceMs: integer(source, 'SWEEP_GRACE_MS', 2000, 0, day),
    commandRateLimitPerMinute: integer(source, 'COMMAND_RATE_LIMIT_PER_MINUTE', 60, 0, 1_000_000),
    kafkaBrokers,
    kafkaTopic,
    logLevel: logLevel as LogLevel,
    corsOrigins: parseCorsOrigins(text(source, 'CORS_ORIGINS', '')),
    auditConcurrency: integer(source, 'AUDIT_CONCURRENCY', 2, 1, 64),
    maxConnections: integer(source, 'MAX_CONNECTIONS', 10_000, 1, 1_000_000),
    // At most 8 s, so the drain plus closing the store stays within SIGTERM's 10 s (SPEC §15).
    shutdownDrainMs: integer(source, 'SHUTDOWN_DRAIN_MS', 5000, 0, 8000),
    integrityCheckMs: integer(source, 'INTEGRITY_CHECK_MS', 10_000, 0, 600_000),
  };
}

/** The settings a command handler decides with, taken from configuration. */
export function miningSettingsOf(config: Config) {
  return {
    rateUnitsPerHour: config.rateUnitsPerHour,
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
    maxSessionMs: config.maxSessionMs,
    minHeartbeatIntervalMs: config.minHeartbeatIntervalMs,
    sweepGraceMs: config.sweepGraceMs,
  };
}
