// The auditor's ledger (SPEC §4) as one TypeBox schema: the TypeScript types (Static<>), the API's
// response schema and OpenAPI (src/api/accounts.ts) all come from here. The streaming JSON printer
// (ledger-format.ts) is written by hand and checked against this schema by test/projections/ledger-schema.test.ts.
import { Kind, Type, TypeRegistry, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ACTOR_KINDS, ADJUSTMENT_REASONS, STOP_REASONS } from '../../domain/events.js';

const NULLABLE = 'LedgerNullable';
const INNER = Symbol('nullable.inner');
// TypeBox's Value checks a nullable field by its inner schema (the symbol key stays out of the JSON schema).
if (!TypeRegistry.Has(NULLABLE)) {
  TypeRegistry.Set<{ [INNER]: TSchema }>(NULLABLE, (schema, value) => value === null || Value.Check(schema[INNER], value));
}

/** OpenAPI 3.0's `nullable` (what Ajv, fast-json-stringify and Swagger read), checkable by Value too. */
function nullable<T extends TSchema>(schema: T, json: object = schema): TUnsafe<Static<T> | null> {
  return Type.Unsafe<Static<T> | null>({ ...json, nullable: true, [Kind]: NULLABLE, [INNER]: schema });
}

const oneOf = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
/** A nullable choice of words, written as a string enum so every serializer reads `nullable`. */
const nullableOneOf = <T extends string>(values: readonly T[]) => nullable(oneOf(values), { type: 'string', enum: values });
const exact = { additionalProperties: false } as const;
const Instant = Type.String({ format: 'date-time' });
const units = (description = 'base units, a decimal integer') => Type.String({ pattern: '^-?(0|[1-9][0-9]*)$', description });
const Units = units();
const Tokens = Type.String({ pattern: '^-?[0-9]+\\.[0-9]{8}$', description: 'tokens, exactly 8 fraction digits' });
const decimal = (description?: string) => Type.String({ pattern: '^(0|[1-9][0-9]*)$', ...(description ? { description } : {}) });
const Decimal = decimal();

export const LedgerInterval = Type.Object(
  {
    from: Instant,
    to: Type.String({ format: 'date-time', description: 'the heartbeat or user stop that ends it, or the deadline' }),
    ms: Type.Integer({ minimum: 0 }),
    credited: Type.Boolean(),
    creditedMs: Type.Integer({ minimum: 0, description: 'less than ms when the maximum session length clips it' }),
    why: Type.String(),
  },
  exact,
);

export const LedgerSession = Type.Object(
  {
    sessionId: Type.String(),
    startedAt: Instant,
    stoppedAt: nullable(Instant),
    reason: nullableOneOf(STOP_REASONS),
    ratePerHour: Tokens,
    heartbeatTimeoutMs: Type.Integer(),
    maxSessionMs: Type.Integer(),
    heartbeats: Type.Integer({ minimum: 0 }),
    creditedMs: Type.Integer({ minimum: 0 }),
    earnedUnits: Units,
    intervals: Type.Array(LedgerInterval),
    stopRecordedAt: Type.Optional(nullable(Type.String({
      format: 'date-time', description: "when the stop was written (the sweeper's lag is this minus stoppedAt); null while open",
    }))),
  },
  exact,
);

/** An adjustment as the ledger and GET …/adjustments show it (SPEC §10). */
export const LedgerAdjustmentJson = Type.Object(
  {
    adjustmentId: Type.String(),
    at: Instant,
    amount: Tokens,
    amountUnits: Units,
    reason: oneOf(ADJUSTMENT_REASONS),
    note: Type.String(),
    reference: nullable(Type.String()),
    actor: nullable(Type.Object({ kind: oneOf(ACTOR_KINDS), id: Type.String() }, exact)),
  },
  { ...exact, title: 'Adjustment' },
);

/** The stream's hash chain (SPEC §12): events chained, unchained (from before the chain), the first broken link. */
export const LedgerChain = Type.Object(
  {
    chained: Type.Integer({ minimum: 0 }),
    unchained: Type.Integer({ minimum: 0 }),
    broken: nullable(Type.Object({ stream: Type.String(), revision: Decimal, position: Decimal, what: Type.String() }, exact)),
  },
  exact,
);

export const AuditLedger = Type.Object(
  {
    accountId: Type.String(),
    streamRevision: nullable(Decimal),
    events: Type.Integer({ minimum: 0 }),
    sessions: Type.Array(LedgerSession, { description: 'oldest first' }),
    adjustments: Type.Array(LedgerAdjustmentJson, { description: 'BalanceAdjusted, oldest first (SPEC §10)' }),
    adjustedUnits: units('Σ adjustments, included in the balances'),
    creditedMs: Type.Integer({ minimum: 0 }),
    replayedBalanceUnits: Units,
    projectedBalanceUnits: Units,
    projectedPosition: decimal('the read model\'s position for the account when compared ("0" when none)'),
    matches: Type.Boolean(),
    differences: Type.Array(Type.String(), { description: 'what differs, one line each; empty when it matches' }),
    chain: LedgerChain,
    asOf: Type.Optional(Type.Object(
      { at: Type.String(), position: Decimal, compared: Type.Literal(false) },
      { ...exact, description: 'set when asked for a point before the last event (SPEC §12): replayed up to position, not compared' },
    )),
  },
  { ...exact, description: "the account's ledger replayed from its stream, set beside the projection" },
);

export type LedgerInterval = Static<typeof LedgerInterval>;
export type LedgerSession = Static<typeof LedgerSession>;
export type AdjustmentJson = Static<typeof LedgerAdjustmentJson>;
export type LedgerChain = Static<typeof LedgerChain>;
export type AuditLedger = Static<typeof AuditLedger>;
