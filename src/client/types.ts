// The wire shapes the client speaks, derived from the server's own TypeBox schemas (type-only
// imports: nothing of the server reaches the bundle), so a changed route is a type error here.
import type { Static } from '@sinclair/typebox';
import type { AccountAnswer, HeartbeatAnswer, SessionAnswer, SessionsAnswer } from '../api/answers.js';
import type { AuditLedger } from '../api/ledger-schema.js';
import type { ErrorBody, Session } from '../api/schemas.js';
import type { AdjustmentAnswer, AdjustmentRequest, AdjustmentsAnswer, Adjustment } from '../api/answers.js';

export type MiningSession = Static<typeof Session>;
export type StartAnswer = Static<typeof SessionAnswer>;
export type StopAnswer = Static<typeof SessionAnswer>;
export type HeartbeatResult = Static<typeof HeartbeatAnswer>;
export type AccountView = Static<typeof AccountAnswer>;
export type SessionsPage = Static<typeof SessionsAnswer>;
export type AuditLedgerView = Static<typeof AuditLedger>;
export type ApiErrorBody = Static<typeof ErrorBody>;
export type AdjustmentInput = Static<typeof AdjustmentRequest>;
export type AdjustmentView = Static<typeof Adjustment>;
export type AdjustmentResult = Static<typeof AdjustmentAnswer>;
export type AdjustmentsList = Static<typeof AdjustmentsAnswer>;
