// Bearer JWT (HS256 only) verified once per request with node:crypto, and who may do what.
// 401: missing, malformed, forged, expired or without `exp`. 403: valid but not allowed.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Actor } from '../domain/events.js';
import { ApiError } from './errors.js';

export const ROLES = ['gateway', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** The account a user token acts for, or the name of a role holder. */
  sub: string | undefined;
  role: Role | undefined;
  /** Expiry, epoch seconds. */
  exp: number;
}

/** 'admin': only the admin role (adjustments, SPEC §10). */
export type Access = 'command' | 'read' | 'admin';

const SEGMENT = /^[A-Za-z0-9_-]+$/;
// An HMAC-SHA256 is 32 bytes: 43 base64url characters without padding.
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;
const MAX_TOKEN_LENGTH = 4096;
// As long as an account id: an admin's actor id ("admin:" + sub) must still fit event metadata (200).
const MAX_SUB_LENGTH = 128;

function unauthorized(message: string): ApiError {
  return new ApiError(401, 'UNAUTHORIZED', message);
}

function decodeJson(segment: string): unknown {
  if (!SEGMENT.test(segment)) return undefined;
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

function checkHeader(segment: string): void {
  const header = decodeJson(segment) as { alg?: unknown; typ?: unknown } | undefined;
  if (!header || typeof header !== 'object') throw unauthorized('malformed token header');
  if (header.alg !== 'HS256') throw unauthorized('token algorithm must be HS256');
  if (header.typ !== undefined && header.typ !== 'JWT') throw unauthorized('token type must be JWT');
}

function claimsOf(segment: string): { principal: Principal; nbf: number } {
  const claims = decodeJson(segment) as Record<string, unknown> | undefined;
  if (!claims || typeof claims !== 'object' || Array.isArray(claims)) throw unauthorized('malformed token claims');
  const { sub, role, exp } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw unauthorized('token has no exp');
  if (sub !== undefined && (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUB_LENGTH)) {
    throw unauthorized('token sub must be a non-empty string');
  }
  if (role !== undefined && !(ROLES as readonly unknown[]).includes(role)) throw unauthorized('token role is not one of gateway, auditor, admin');
  if (sub === undefined && role === undefined) throw unauthorized('token has neither sub nor role');
  const nbf = claims.nbf ?? -Infinity;
  if (typeof nbf !== 'number' || Number.isNaN(nbf)) throw unauthorized('token nbf must be a number');
  return { principal: { sub: sub as string | undefined, role: role as Role | undefined, exp }, nbf };
}

export interface TokenVerifier {
  /** The principal of an `Authorization: Bearer …` header; throws ApiError 401. */
  verify(authorization: string | undefined, nowMs: number): Principal;
}

/**
 * Verified tokens are remembered by their full text (signature included), so a client that sends
 * the same token with every heartbeat pays for the HMAC once; `exp` is still checked every time.
 */
export function tokenVerifier(secret: Buffer, cacheEntries = 10_000): TokenVerifier {
  const verified = new Map<string, { principal: Principal; nbf: number }>();

  function verifyToken(token: string): { principal: Principal; nbf: number } {
    if (token.length > MAX_TOKEN_LENGTH) throw unauthorized('token too long');
    const dot1 = token.indexOf('.');
    const dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
    if (dot1 <= 0 || dot2 <= dot1 + 1 || token.indexOf('.', dot2 + 1) !== -1) throw unauthorized('malformed token');
    const signature = token.slice(dot2 + 1);
    if (!SIGNATURE.test(signature)) throw unauthorized('malformed token signature');
    checkHeader(token.slice(0, dot1));
    const expected = createHmac('sha256', secret).update(token.slice(0, dot2)).digest();
    if (!timingSafeEqual(expected, Buffer.from(signature, 'base64url'))) throw unauthorized('token signature does not verify');
    return claimsOf(token.slice(dot1 + 1, dot2));
  }

  return {
    verify(authorization, nowMs) {
      if (authorization === undefined) throw unauthorized('missing bearer token');
      if (authorization.length < 8 || authorization.slice(0, 7).toLowerCase() !== 'bearer ') {
        throw unauthorized('authorization must be "Bearer <token>"');
      }
      const token = authorization.slice(7).trim();
      let entry = verified.get(token);
      if (entry === undefined) {
        entry = verifyToken(token);
        if (verified.size >= cacheEntries) verified.delete(verified.keys().next().value as string);
        verified.set(token, entry);
      }
      const nowSeconds = nowMs / 1000;
      if (nowSeconds >= entry.principal.exp) throw unauthorized('token expired');
      if (nowSeconds < entry.nbf) throw unauthorized('token not valid yet');
      return entry.principal;
    },
  };
}

/**
 * A role decides alone; `sub` then only names the holder. Without a role, `sub` is the one account
 * the token may act on. Auditors read and audit any account and run no command.
 */
export function isAllowed(principal: Principal, accountId: string, access: Access): boolean {
  if (access === 'admin') return principal.role === 'admin';
  switch (principal.role) {
    case 'admin':
    case 'gateway':
      return true;
    case 'auditor':
      return access === 'read';
    case undefined:
      return principal.sub === accountId;
  }
}

/** Who the events' metadata names; the domain knows user, gateway and sweeper, so admin is a gateway. */
export function actorOf(principal: Principal): Actor {
  switch (principal.role) {
    case undefined:
      return { kind: 'user', id: principal.sub as string };
    case 'admin':
      return { kind: 'gateway', id: `admin:${principal.sub ?? 'admin'}` };
    default:
      return { kind: 'gateway', id: principal.sub ?? principal.role };
  }
}

export interface TokenClaims {
  sub?: string;
  role?: Role;
  ttlSeconds: number;
}

/** Mints an HS256 token (the `token` command and tests). */
export function signToken(claims: TokenClaims, secret: Buffer, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000);
  const payload: Record<string, unknown> = {};
  if (claims.sub !== undefined) payload.sub = claims.sub;
  if (claims.role !== undefined) payload.role = claims.role;
  payload.iat = iat;
  payload.exp = iat + claims.ttlSeconds;
  return signRaw({ alg: 'HS256', typ: 'JWT' }, payload, secret);
}

/** Signs any header and payload as given; tests use it to forge odd tokens with a valid signature. */
export function signRaw(header: unknown, payload: unknown, secret: Buffer): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signed = `${encode(header)}.${encode(payload)}`;
  return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
}
