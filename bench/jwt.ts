// Token verification cost (issue 10): ns per verification, a cache hit and a miss, for the shipped
// verifier (fast-jwt behind the LRU of whole tokens), the node:crypto HMAC it replaced behind the
// same checks and cache, and fast-jwt's own cache with its default hashed key and with the whole
// token as key; then the cache alone: the FIFO Map of before, a Map re-inserted on each hit, lru-cache.
// Alternating rounds in one process; the figure per row is the median of the rounds, in CPU time.
//   npm run bench:jwt -- [--rounds 3] [--hits 200000] [--misses 10000]
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createVerifier } from 'fast-jwt';
import { LRUCache } from 'lru-cache';
import { signToken, tokenVerifier, type SignatureCheck, type TokenVerifier } from '../src/api/auth.js';
import { ApiError } from '../src/api/errors.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

const ROUNDS = option('rounds', 3);
const HITS = option('hits', 200_000);
const MISSES = option('misses', 10_000);
const HOT = 1000;
const SECRET = Buffer.from('bench-secret-bench-secret-bench-secret!!');
const NOW = Date.UTC(2026, 0, 1);

/** The signature step as src/api/auth.ts did it before fast-jwt: createHmac, timingSafeEqual, JSON.parse. */
function nodeCryptoSignature(secret: Buffer): SignatureCheck {
  return (token) => {
    const dot1 = token.indexOf('.');
    const dot2 = token.lastIndexOf('.');
    const expected = createHmac('sha256', secret).update(token.slice(0, dot2)).digest();
    if (!timingSafeEqual(expected, Buffer.from(token.slice(dot2 + 1), 'base64url'))) throw new ApiError(401, 'UNAUTHORIZED', 'token signature does not verify');
    const [headerSegment, payloadSegment] = [token.slice(0, dot1), token.slice(dot1 + 1, dot2)];
    const parse = (segment: string): unknown => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return { headerSegment, payloadSegment, header: parse(headerSegment), payload: parse(payloadSegment) };
  };
}

const sign = (sub: string) => signToken({ sub, ttlSeconds: 3600 }, SECRET, NOW);
const hot = Array.from({ length: HOT }, (_, i) => sign(`hot-${i}`));
const hotHeaders = hot.map((token) => `Bearer ${token}`);
const cold = Array.from({ length: MISSES * ROUNDS }, (_, i) => sign(`cold-${i}`));

interface Row {
  name: string;
  /** One verification: of the bare token, or of the whole header, as the row needs. */
  make(): (token: string, header: string) => void;
}

const viaVerifier = (verifier: TokenVerifier) => (_token: string, header: string) => void verifier.verify(header, NOW);
const ROWS: Row[] = [
  { name: 'shipped: fast-jwt behind the LRU (lru-cache)', make: () => viaVerifier(tokenVerifier(SECRET, { cacheEntries: 1_000_000 })) },
  { name: 'node:crypto HMAC behind the same checks + LRU', make: () => viaVerifier(tokenVerifier(SECRET, { cacheEntries: 1_000_000, signature: nodeCryptoSignature(SECRET) })) },
  {
    name: 'fast-jwt alone, its cache, default (hashed) key',
    make: () => {
      const verify = createVerifier({ key: SECRET, algorithms: ['HS256'], cache: 1_000_000, ignoreExpiration: true, ignoreNotBefore: true });
      return (token) => void verify(token);
    },
  },
  {
    name: 'fast-jwt alone, its cache, whole token as key',
    make: () => {
      const verify = createVerifier({ key: SECRET, algorithms: ['HS256'], cache: 1_000_000, cacheKeyBuilder: (t: string) => t, ignoreExpiration: true, ignoreNotBefore: true });
      return (token) => void verify(token);
    },
  },
];

/**
 * CPU ns per call of fn over `calls` calls, after a warm-up that is not counted. CPU time, not wall
 * time: on a shared machine the wall clock also counts the time other processes held the core.
 */
function time(calls: number, fn: (i: number) => void, warm = 0): number {
  for (let i = 0; i < warm; i++) fn(i);
  const began = process.cpuUsage();
  for (let i = warm; i < warm + calls; i++) fn(i);
  const used = process.cpuUsage(began);
  return ((used.user + used.system) * 1000) / calls;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const results = new Map<string, { hit: number[]; miss: number[] }>();
const record = (name: string, kind: 'hit' | 'miss', ns: number) => {
  const entry = results.get(name) ?? { hit: [], miss: [] };
  entry[kind].push(ns);
  results.set(name, entry);
};

// The cache alone, on the same whole-token keys (a fresh slice, as `authorization.slice(7)` gives).
const CACHES: { name: string; make(): (key: string) => unknown }[] = [
  {
    name: 'cache alone: Map, oldest inserted evicted (before)',
    make: () => {
      const map = new Map(hot.map((t) => [t, { t }]));
      return (key) => map.get(key);
    },
  },
  {
    name: 'cache alone: Map re-inserted on each hit (LRU)',
    make: () => {
      const map = new Map(hot.map((t) => [t, { t }]));
      return (key) => {
        const value = map.get(key);
        if (value !== undefined) {
          map.delete(key);
          map.set(key, value);
        }
        return value;
      };
    },
  },
  {
    name: 'cache alone: lru-cache (LRU)',
    make: () => {
      const cache = new LRUCache<string, { t: string }>({ max: 10_000 });
      for (const t of hot) cache.set(t, { t });
      return (key) => cache.get(key);
    },
  },
];

for (let round = 0; round < ROUNDS; round++) {
  const coldSlice = cold.slice(round * MISSES, (round + 1) * MISSES);
  for (const row of ROWS) {
    const verify = row.make();
    record(row.name, 'miss', time(MISSES, (i) => verify(coldSlice[i]!, `Bearer ${coldSlice[i]!}`)));
    for (let i = 0; i < HOT; i++) verify(hot[i]!, hotHeaders[i]!);
    // A request's header is a new string every time: each row gets a fresh slice (the verifier slices its own).
    record(row.name, 'hit', time(HITS, (i) => verify(hotHeaders[i % HOT]!.slice(7), hotHeaders[i % HOT]!), HOT * 10));
  }
  for (const cache of CACHES) {
    const get = cache.make();
    record(cache.name, 'hit', time(HITS, (i) => get(hotHeaders[i % HOT]!.slice(7)), HOT * 10));
  }
}

const width = Math.max(...[...results.keys()].map((name) => name.length));
console.log(`token verification, CPU ns per call (median of ${ROUNDS} alternating rounds; ${HOT} hot tokens, ${HITS} hits and ${MISSES} misses per round)`);
console.log(`${'row'.padEnd(width)}  ${'cached'.padStart(8)}  ${'uncached'.padStart(9)}`);
for (const [name, { hit, miss }] of results) {
  console.log(`${name.padEnd(width)}  ${median(hit).toFixed(0).padStart(8)}  ${(miss.length ? median(miss).toFixed(0) : '-').padStart(9)}`);
}
const shipped = results.get(ROWS[0]!.name)!;
console.log(`shipped cached verification: ${(median(shipped.hit) / 1000).toFixed(2)} µs (issue 10 rule: keep fast-jwt if about 1 µs)`);
