// The three facts of mining, their schemas, and validation on write and on read.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { MAX_UNITS } from './money.js';
import { parseIso, toIso } from './time.js';

export const SCHEMA_VERSION = 1;
export const STREAM_PREFIX = 'mining-';
export const ACCOUNT_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$';
const ACCOUNT_ID = new RegExp(ACCOUNT_ID_PATTERN);

export const STOP_REASONS = ['user', 'timeout', 'max_duration'] as const;
export type StopReason = (typeof STOP_REASONS)[number];
// An admin acting on an account is recorded as kind "gateway" with its own id (SPEC names three kinds);
// "operator" is the person at the command line (`adjust`, `import`, SPEC §10).
export const ACTOR_KINDS = ['user', 'gateway', 'sweeper', 'operator'] as const;
export const ADJUSTMENT_REASONS = ['correction', 'migration', 'goodwill', 'reversal'] as const;
export type AdjustmentReason = (typeof ADJUSTMENT_REASONS)[number];
export const NOTE_MAX_LENGTH = 500;
export const REFERENCE_MAX_LENGTH = 200;

const Uuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
const Instant = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$' });
const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Millis = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

export const MiningStartedData = Type.Object(
  {
    sessionId: Uuid,
    accountId: Type.String({ pattern: ACCOUNT_ID_PATTERN }),
    at: Instant,
    rateUnitsPerHour: Type.String({ pattern: '^(0|[1-9][0-9]{0,18})$' }),
    heartbeatTimeoutMs: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    maxSessionMs: Millis,
  },
  { additionalProperties: false },
);
export const HeartbeatData = Type.Object({ sessionId: Uuid, at: Instant }, { additionalProperties: false });
export const MiningStoppedData = Type.Object(
  { sessionId: Uuid, at: Instant, reason: Type.Union(STOP_REASONS.map((r) => Type.Literal(r))) },
  { additionalProperties: false },
);
/** SPEC §10: a signed correction of the balance, exact to the base unit, never zero. */
export const BalanceAdjustedData = Type.Object(
  {
    adjustmentId: Uuid,
    accountId: Type.String({ pattern: ACCOUNT_ID_PATTERN }),
    at: Instant,
    amountUnits: Type.String({ pattern: '^-?[1-9][0-9]{0,18}$' }),
    reason: Type.Union(ADJUSTMENT_REASONS.map((r) => Type.Literal(r))),
    note: Type.String({ minLength: 1, maxLength: NOTE_MAX_LENGTH }),
    reference: Type.Optional(Type.String({ minLength: 1, maxLength: REFERENCE_MAX_LENGTH })),
  },
  { additionalProperties: false },
);
export const EventMetadata = Type.Object({
  schemaVersion: Type.Integer({ minimum: 1 }),
  recordedAt: Instant,
  correlationId: Type.String({ minLength: 1, maxLength: 200 }),
  actor: Type.Object({
    kind: Type.Union(ACTOR_KINDS.map((k) => Type.Literal(k))),
    id: Type.String({ minLength: 1, maxLength: 200 }),
  }),
  // The hash chain (SPEC §12, src/audit/chain.ts); absent on events written before it existed.
  hash: Type.Optional(Sha256Hex),
  prevHash: Type.Optional(Type.Union([Sha256Hex, Type.Null()])),
});

export type MiningStartedData = Static<typeof MiningStartedData>;
export type HeartbeatData = Static<typeof HeartbeatData>;
export type MiningStoppedData = Static<typeof MiningStoppedData>;
export type BalanceAdjustedData = Static<typeof BalanceAdjustedData>;
export type EventMetadata = Static<typeof EventMetadata>;
export type Actor = EventMetadata['actor'];
export type ActorKind = Actor['kind'];

export type MiningEvent =
  | { type: 'MiningStarted'; data: MiningStartedData }
  | { type: 'Heartbeat'; data: HeartbeatData }
  | { type: 'MiningStopped'; data: MiningStoppedData }
  | { type: 'BalanceAdjusted'; data: BalanceAdjustedData };
export type MiningEventType = MiningEvent['type'];

export class EventValidationError extends Error {
  override readonly name = 'EventValidationError';
}

const checks: Record<MiningEventType, TypeCheck<TSchema>> = {
  MiningStarted: TypeCompiler.Compile(MiningStartedData),
  Heartbeat: TypeCompiler.Compile(HeartbeatData),
  MiningStopped: TypeCompiler.Compile(MiningStoppedData),
  BalanceAdjusted: TypeCompiler.Compile(BalanceAdjustedData),
};
const metadataCheck = TypeCompiler.Compile(EventMetadata);

export function isMiningEventType(type: string): type is MiningEventType {
  return Object.prototype.hasOwnProperty.call(checks, type);
}

export function isValidAccountId(accountId: unknown): accountId is string {
  return typeof accountId === 'string' && ACCOUNT_ID.test(accountId);
}

export function streamOf(accountId: string): string {
  return STREAM_PREFIX + accountId;
}

export function accountOf(stream: string): string | undefined {
  if (!stream.startsWith(STREAM_PREFIX)) return undefined;
  const accountId = stream.slice(STREAM_PREFIX.length);
  return isValidAccountId(accountId) ? accountId : undefined;
}

function firstError(check: TypeCheck<TSchema>, value: unknown): string {
  const error = check.Errors(value).First();
  return error ? `${error.path || '/'} ${error.message}` : 'invalid';
}

/** Validates an event's type and data; throws EventValidationError with a reason otherwise. */
/** Where an event sits, for error messages; a function so the text is built only on error. */
export type Where = string | (() => string);
const place = (where: Where): string => (typeof where === 'string' ? where : where());

export function validateEvent(type: string, data: unknown, where: Where = 'event'): MiningEvent {
  if (!isMiningEventType(type)) throw new EventValidationError(`${place(where)}: unknown event type "${type}"`);
  const check = checks[type];
  if (!check.Check(data)) throw new EventValidationError(`${place(where)}: ${type} data ${firstError(check, data)}`);
  const at = (data as { at: string }).at;
  if (parseIso(at) === undefined) throw new EventValidationError(`${place(where)}: ${type} has an impossible time "${at}"`);
  // 19 digits pass the pattern; the largest amount accepted anywhere is a signed 64-bit count of units.
  if (type === 'MiningStarted' && BigInt((data as MiningStartedData).rateUnitsPerHour) > MAX_UNITS) {
    throw new EventValidationError(`${place(where)}: MiningStarted rateUnitsPerHour is larger than ${MAX_UNITS}`);
  }
  if (type === 'BalanceAdjusted') {
    const amount = BigInt((data as BalanceAdjustedData).amountUnits);
    if (amount > MAX_UNITS || -amount > MAX_UNITS) {
      throw new EventValidationError(`${place(where)}: BalanceAdjusted amountUnits is beyond ±${MAX_UNITS}`);
    }
  }
  return { type, data } as MiningEvent;
}

/** Validates metadata; a newer schema version than this build understands is refused, never misread. */
export function validateMetadata(metadata: unknown, where: Where = 'event'): EventMetadata {
  if (metadata !== null && typeof metadata === 'object') {
    const version = (metadata as { schemaVersion?: unknown }).schemaVersion;
    if (typeof version === 'number' && version > SCHEMA_VERSION) {
      throw new EventValidationError(
        `${place(where)}: schema version ${version} is newer than this build understands (${SCHEMA_VERSION}); upgrade mining-ledger`,
      );
    }
  }
  if (!metadataCheck.Check(metadata)) {
    throw new EventValidationError(`${place(where)}: metadata ${firstError(metadataCheck, metadata)}`);
  }
  return metadata as EventMetadata;
}

/**
 * toIso under the name the shell's modules import. The remembered-prefix variant that the hot path
 * uses lives with its owners outside the core (src/commands/iso-text.ts); the core keeps no cache.
 */
export const isoOf: (ms: number) => string = toIso;
