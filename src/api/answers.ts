// The answers of the mining and account routes, in a module of their own (TypeBox only, no Fastify)
// so the app client (src/client/types.ts) derives its types from exactly what the routes serialize.
import { Type } from '@sinclair/typebox';
import { nullable, PositionString, Session, TokenAmount, Units } from './schemas.js';

export const SessionAnswer = Type.Object({ accountId: Type.String(), session: Session, position: PositionString });

export const HeartbeatAnswer = Type.Object({
  accountId: Type.String(),
  session: Session,
  recorded: Type.Boolean({ description: 'false when coalesced under MIN_HEARTBEAT_INTERVAL_MS' }),
  position: PositionString,
});

export const AccountAnswer = Type.Object({
  accountId: Type.String(),
  balance: TokenAmount,
  balanceUnits: Units,
  creditedMs: Type.Integer({ minimum: 0 }),
  mining: Type.Boolean({ description: 'a session is active and not past its deadline now' }),
  session: nullable(Session),
  position: PositionString,
});

export const SessionsAnswer = Type.Object({
  sessions: Type.Array(Session, { description: 'newest first' }),
  nextCursor: nullable(Type.String({ description: 'pass as ?cursor= for the next page; null on the last page' })),
});
