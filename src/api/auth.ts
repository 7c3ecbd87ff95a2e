// Bearer JWT (HS256 only): the signature verified by fast-jwt, stricter checks around it, the result
// remembered in an LRU cache keyed by the whole token; and who may do what.
// 401: missing, malformed, forged, expired or without `exp`. 403: valid but not allowed.
import { createHmac } from 'node:crypto';
import { createVerifier, TokenError } from 'fast-jwt';
import { LRUCache } from 'lru-cache';
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
 * JSON.parse (fast-jwt's too) keeps the last of two equal keys; a proxy may read the first
 * ({"sub":"bob","sub":"alice"}), so a segment whose text has more keys than its value is refused.
 */
function hasDuplicatedKey(segment: string, parsed: unknown): boolean {
  return keyCount(parsed) !== writtenKeyCount(Buffer.from(segment, 'base64url').toString('utf8'));
}

/** A token whose signature verified: its segments as sent and their parsed JSON. */
export interface SignedToken {
  headerSegment: string;
  payloadSegment: string;
  header: unknown;
  payload: unknown;
}

/** Checks the signature of a token (throws ApiError 401); the one step fast-jwt does here. */
export type SignatureCheck = (token: string) => SignedToken;

const FAST_JWT_REFUSALS: Partial<Record<string, string>> = {
  [TokenError.codes.malformed]: 'malformed token',
  [TokenError.codes.invalidPayload]: 'malformed token claims',
  [TokenError.codes.invalidAlgorithm]: 'token algorithm must be HS256',
  [TokenError.codes.invalidSignature]: 'token signature does not verify',
  [TokenError.codes.missingSignature]: 'malformed token signature',
  [TokenError.codes.invalidCritHeader]: 'token header has crit extensions this server does not support',
};

/**
 * fast-jwt, HS256 only. Its own cache stays off: keyed by default by a SHA hash of the token (a hit
 * costs a hash), with the whole token it warns for every verifier built, and it would hold the payload, not
 * the checked principal — the LRU in tokenVerifier does both (figures in docs/api.md). Time claims
 * are ours to check against the injected clock: fast-jwt reads Date.now().
 */
export function fastJwtSignature(secret: Buffer): SignatureCheck {
  const verify = createVerifier({ key: secret, algorithms: ['HS256'], complete: true, ignoreExpiration: true, ignoreNotBefore: true });
  return (token) => {
    try {
      const { header, payload } = verify(token) as { header: unknown; payload: unknown };
      const dot1 = token.indexOf('.');
      return { headerSegment: token.slice(0, dot1), payloadSegment: token.slice(dot1 + 1, token.lastIndexOf('.')), header, payload };
    } catch (error) {
      if (!(error instanceof TokenError)) throw error;
      throw unauthorized(FAST_JWT_REFUSALS[error.code] ?? `token refused: ${error.message}`);
    }
  };
}

/** What fast-jwt lets through and SPEC §15 does not: non-canonical signatures are refused before it runs. */
function checkShape(token: string): void {
  if (token.length > MAX_TOKEN_LENGTH) throw unauthorized('token too long');
  const dot1 = token.indexOf('.');
  const dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
  if (dot1 <= 0 || dot2 <= dot1 + 1 || token.indexOf('.', dot2 + 1) !== -1) throw unauthorized('malformed token');
  const signature = token.slice(dot2 + 1);
  if (!SIGNATURE.test(signature)) throw unauthorized('malformed token signature');
  // 43 characters carry 258 bits: only one of the four spellings of the last one is the HMAC's (fast-jwt takes all four).
  if (!CANONICAL_LAST.test(signature)) throw unauthorized('token signature is not canonical base64url');
}

function checkHeader({ headerSegment, header }: SignedToken): void {
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw unauthorized('malformed token header');
  if (hasDuplicatedKey(headerSegment, header)) throw unauthorized('token header has a duplicated key');
  const { alg, typ } = header as { alg?: unknown; typ?: unknown };
  // RFC 7515 §4.1.11: an extension we do not understand must be refused (fast-jwt lets a falsy crit pass).
  if ('crit' in header) throw unauthorized('token header has crit extensions this server does not support');
  if (alg !== 'HS256') throw unauthorized('token algorithm must be HS256');
  if (typ !== undefined && typ !== 'JWT') throw unauthorized('token type must be JWT');
}

interface Verified {
  principal: Principal;
  nbf: number;
  iat: number;
}

function claimsOf({ payloadSegment, payload }: SignedToken): Verified {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw unauthorized('malformed token claims');
  if (hasDuplicatedKey(payloadSegment, payload)) throw unauthorized('token claims have a duplicated key');
  const claims = payload as Record<string, unknown>;
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
  /** Cache hits and misses (a miss verifies the signature) since the verifier was made. */
  stats(): { hits: number; misses: number; size: number };
}

export interface TokenVerifierOptions {
  cacheEntries?: number;
  /** The signature step; fast-jwt unless a benchmark compares another. */
  signature?: SignatureCheck;
}

/**
 * Verified tokens are remembered by their full text (signature included), so a client that sends
 * the same token with every heartbeat pays for the HMAC once; the time claims are still checked
 * every time. Least recently used goes first: a gateway's one busy token is never the one evicted.
 */
export function tokenVerifier(secret: Buffer, options: TokenVerifierOptions = {}): TokenVerifier {
  const checkSignature = options.signature ?? fastJwtSignature(secret);
  const verified = new LRUCache<string, Verified>({ max: options.cacheEntries ?? 10_000 });
  let hits = 0;
  let misses = 0;

  function verifyToken(token: string): Verified {
    checkShape(token);
    const signed = checkSignature(token);
    checkHeader(signed);
    return claimsOf(signed);
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
        misses++;
        entry = verifyToken(token);
        verified.set(token, entry);
      } else {
        hits++;
      }
      const nowSeconds = nowMs / 1000;
      if (nowSeconds >= entry.principal.exp) throw unauthorized('token expired');
      if (nowSeconds < entry.nbf) throw unauthorized('token not valid yet');
      if (entry.iat > nowSeconds + MAX_CLOCK_SKEW_S) throw unauthorized('token issued in the future');
      if (entry.principal.exp - nowSeconds > MAX_LIFETIME_S) throw unauthorized(`token lifetime exceeds the server's cap of ${MAX_LIFETIME_S} s`);
      return entry.principal;
    },
    stats: () => ({ hits, misses, size: verified.size }),
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
