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
// The last of 43 characters holds 2 bits of the HMAC and 4 zero bits: A E I M Q U Y c g k o s w 0 4 8.
const CANONICAL_LAST = /[AEIMQUYcgkosw048]$/;
/** An `iat` this far ahead of our clock is refused (clock skew allowance, SPEC §15). */
export const MAX_CLOCK_SKEW_S = 60;
/** Server-side lifetime cap: a token expiring later than this from now is refused (= `token --ttl` maximum). */
export const MAX_LIFETIME_S = 366 * 24 * 3600;
// As long as an account id: an admin's actor id ("admin:" + sub) must still fit event metadata (200).
const MAX_SUB_LENGTH = 128;

function unauthorized(message: string): ApiError {
  return new ApiError(401, 'UNAUTHORIZED', message);
}

/** Keys in every object of a parsed JSON value. */
function keyCount(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return (Array.isArray(value) ? 0 : children.length) + children.reduce((n: number, child) => n + keyCount(child), 0);
}

/** Object keys as written: every string token followed by a colon (strings are matched whole, in order). */
function writtenKeyCount(text: string): number {
  let n = 0;
  for (const match of text.matchAll(/"(?:[^"\\]|\\.)*"(\s*:)?/g)) if (match[1] !== undefined) n++;
  return n;
}

/**
 * A segment's JSON, or undefined when it is not canonical base64url JSON without duplicated keys:
 * JSON.parse keeps the last of two equal keys, a proxy may read the first ({"sub":"bob","sub":"alice"}).
 */
function decodeJson(segment: string): unknown {
  if (!SEGMENT.test(segment)) return undefined;
  try {
    const text = Buffer.from(segment, 'base64url').toString('utf8');
    const value: unknown = JSON.parse(text);
    if (keyCount(value) !== writtenKeyCount(text)) return DUPLICATED;
    return value;
  } catch {
    return undefined;
  }
}
const DUPLICATED = Symbol('duplicated key');

function checkHeader(segment: string): void {
  const decoded = decodeJson(segment);
  if (decoded === DUPLICATED) throw unauthorized('token header has a duplicated key');
  const header = decoded as { alg?: unknown; typ?: unknown; crit?: unknown } | undefined;
  if (!header || typeof header !== 'object') throw unauthorized('malformed token header');
  // RFC 7515 §4.1.11: an extension we do not understand must be refused.
  if ('crit' in header) throw unauthorized('token header has crit extensions this server does not support');
  if (header.alg !== 'HS256') throw unauthorized('token algorithm must be HS256');
  if (header.typ !== undefined && header.typ !== 'JWT') throw unauthorized('token type must be JWT');
}

function claimsOf(segment: string): { principal: Principal; nbf: number; iat: number } {
  const decoded = decodeJson(segment);
  if (decoded === DUPLICATED) throw unauthorized('token claims have a duplicated key');
  const claims = decoded as Record<string, unknown> | undefined;
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
  const iat = claims.iat ?? -Infinity;
  if (typeof iat !== 'number' || Number.isNaN(iat)) throw unauthorized('token iat must be a number');
  return { principal: { sub: sub as string | undefined, role: role as Role | undefined, exp }, nbf, iat };
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
  const verified = new Map<string, { principal: Principal; nbf: number; iat: number }>();

  function verifyToken(token: string): { principal: Principal; nbf: number; iat: number } {
    if (token.length > MAX_TOKEN_LENGTH) throw unauthorized('token too long');
    const dot1 = token.indexOf('.');
    const dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
    if (dot1 <= 0 || dot2 <= dot1 + 1 || token.indexOf('.', dot2 + 1) !== -1) throw unauthorized('malformed token');
    const signature = token.slice(dot2 + 1);
    if (!SIGNATURE.test(signature)) throw unauthorized('malformed token signature');
    // 43 characters carry 258 bits: only one of the four spellings of the last one is the HMAC's.
    if (!CANONICAL_LAST.test(signature)) throw unauthorized('token signature is not canonical base64url');
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
      if (entry.iat > nowSeconds + MAX_CLOCK_SKEW_S) throw unauthorized('token issued in the future');
      if (entry.principal.exp - nowSeconds > MAX_LIFETIME_S) throw unauthorized(`token lifetime exceeds the server's cap of ${MAX_LIFETIME_S} s`);
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
