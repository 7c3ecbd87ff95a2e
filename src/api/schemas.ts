// TypeBox schemas shared by several resources: they validate requests, serialize answers and
// generate the OpenAPI document, so the three can never disagree.
import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { ACCOUNT_ID_PATTERN, STOP_REASONS } from '../domain/events.js';

/** OpenAPI 3.0's `nullable`: understood by Ajv, fast-json-stringify and Swagger alike, and cheap to serialize. */
function nullable<T extends TSchema>(schema: T): TUnsafe<Static<T> | null> {
  return Type.Unsafe<Static<T> | null>({ ...schema, nullable: true });
}

const Instant = Type.String({ format: 'date-time', description: 'ISO-8601 UTC with milliseconds' });
const TokenAmount = Type.String({ pattern: '^[0-9]+\\.[0-9]{8}$', description: 'tokens, exactly 8 fraction digits' });
const Units = Type.String({ pattern: '^[0-9]+$', description: 'base units (10^8 per token), an integer string' });
const Millis = Type.Integer({ minimum: 0 });
export const PositionString = Type.String({ pattern: '^[0-9]+$', description: 'global position, a decimal string ("0" when none)' });

export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String({ description: 'machine-readable, e.g. VALIDATION_FAILED, NOT_MINING' }),
    error: Type.String({ description: 'the HTTP reason phrase' }),
    message: Type.String(),
  },
  { title: 'Error' },
);

export const AccountParams = Type.Object({
  accountId: Type.String({ pattern: ACCOUNT_ID_PATTERN, description: 'the account; its stream is mining-<accountId>' }),
});
export type AccountParams = Static<typeof AccountParams>;

export const Session = Type.Object(
  {
    sessionId: Type.String({ format: 'uuid' }),
    startedAt: Instant,
    lastHeartbeatAt: nullable(Instant),
    deadline: nullable(Type.String({
      format: 'date-time',
      description: 'min(lastPresence + heartbeatTimeoutMs, startedAt + maxSessionMs); null once stopped',
    })),
    stoppedAt: nullable(Instant),
    reason: nullable(Type.String({ enum: [...STOP_REASONS] })),
    ratePerHour: TokenAmount,
    heartbeatIntervalMs: Type.Integer({ description: 'the heartbeat cadence clients should keep (HEARTBEAT_INTERVAL_MS)' }),
    heartbeatTimeoutMs: Millis,
    maxSessionMs: Type.Integer({ minimum: 0, description: '0 = unlimited' }),
    creditedMs: Type.Integer({ minimum: 0, description: 'time between presence points within the timeout' }),
    earned: TokenAmount,
    earnedUnits: Units,
  },
  { title: 'Session' },
);
export type SessionBody = Static<typeof Session>;

export const ReadQuery = Type.Object(
  {
    minPosition: Type.Optional(Type.String({
      pattern: '^[0-9]{1,20}$',
      description: 'wait (up to 2 s) until the read model has applied this global position',
    })),
  },
  { additionalProperties: false },
);

/** Answers for every error status a resource can give. */
export const errorResponses = {
  '4xx': ErrorBody,
  '5xx': ErrorBody,
} as const;

export { nullable, TokenAmount, Units };
