// The client against the real API (app.inject, real store and decider) on one virtual clock: the
// client's timers fire when the test advances that clock, so every wait is exact and nothing sleeps.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tap, { type Test } from 'tap';
import { createMiningClient, type MiningClientOptions } from '../../src/client/index.js';
import type { FetchLike, RequestInitLike, ResponseLike } from '../../src/client/http.js';
import type { VirtualClock } from '../../src/commands/clock.js';
import type { RecordedEvent } from '../../src/store/port.js';
import { testApi, type TestApiOptions, type TestApi } from '../api/helpers.js';

export interface Call { method: string; path: string; at: number; init: RequestInitLike }
/** What the next request meets instead of the server: no connection, an answer, or silence. */
export type Fault = 'network' | 'hang' | { status: number; body?: unknown; headers?: Record<string, string> };

export function virtualTimers(clock: VirtualClock, settle: () => Promise<void>) {
  let seq = 0;
  const due = new Map<number, { at: number; fn: () => void }>();
  return {
    setTimeout: (fn: () => void, ms: number) => {
      due.set(++seq, { at: clock.now() + Math.max(0, ms), fn });
      return seq;
    },
    clearTimeout: (handle: unknown) => void due.delete(handle as number),
    pending: () => due.size,
    /** Moves the clock to now + ms, firing each timer at its own time and letting its work finish. */
    async advance(ms: number): Promise<void> {
      const target = clock.now() + ms;
      await settle();
      for (;;) {
        const next = [...due.entries()].filter(([, t]) => t.at <= target).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
        if (!next) break;
        due.delete(next[0]);
        clock.set(Math.max(clock.now(), next[1].at));
        next[1].fn();
        await settle();
      }
      clock.set(target);
      await settle();
    },
  };
}

export function fakeDocument(initial: 'visible' | 'hidden' = 'visible') {
  const listeners = new Set<() => void>();
  const doc = {
    visibilityState: initial as string,
    addEventListener: (_type: string, l: () => void) => void listeners.add(l),
    removeEventListener: (_type: string, l: () => void) => void listeners.delete(l),
    listeners: () => listeners.size,
    set(state: 'visible' | 'hidden') {
      doc.visibilityState = state;
      for (const l of [...listeners]) l();
    },
  };
  return doc;
}

export function fakePage() {
  const listeners = new Set<() => void>();
  return {
    addEventListener: (_type: string, l: () => void) => void listeners.add(l),
    removeEventListener: (_type: string, l: () => void) => void listeners.delete(l),
    hide: () => { for (const l of [...listeners]) l(); },
  };
}

export interface Harness {
  api: TestApi;
  /** This test's own account: tests share one API (starting one costs seconds), never an account. */
  account: string;
  calls: Call[];
  faults: Fault[];
  timers: ReturnType<typeof virtualTimers>;
  document: ReturnType<typeof fakeDocument>;
  page: ReturnType<typeof fakePage>;
  fetch: FetchLike;
  client(options?: Partial<MiningClientOptions>): ReturnType<typeof createMiningClient>;
  /** Event types and times (ms after start of the test) of the account's stream. */
  events(accountId?: string): Promise<Array<{ type: string; t: number; data: Record<string, unknown> }>>;
  /** ms since the harness started. */
  elapsed(): number;
  settle(): Promise<void>;
}

const apis = new Map<string, Promise<TestApi>>();
let accounts = 0;

export async function harness(_t: Test, options: TestApiOptions = {}): Promise<Harness> {
  const key = JSON.stringify(options);
  if (!apis.has(key)) {
    // The root test's testdir is one directory per file: each shared API needs its own.
    const dir = mkdtempSync(join(tmpdir(), 'mining-client-'));
    const owner = { testdir: () => dir, teardown: (fn: () => unknown) => tap.teardown(async () => { await fn(); rmSync(dir, { recursive: true, force: true }); }) };
    apis.set(key, testApi(owner as unknown as Test, options));
  }
  const api = await apis.get(key)!;
  const account = `user-${++accounts}`;
  const t0 = api.clock.now();
  const calls: Call[] = [];
  const faults: Fault[] = [];
  const pending = new Set<Promise<unknown>>();
  const settle = async () => {
    for (let round = 0; round < 50; round++) {
      await new Promise((resolve) => setImmediate(resolve));
      if (pending.size === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        if (pending.size === 0) return;
      }
      await Promise.allSettled([...pending]);
    }
  };
  const timers = virtualTimers(api.clock, settle);

  const fetch: FetchLike = (url, init) => {
    const path = new URL(url).pathname + new URL(url).search;
    calls.push({ method: init.method, path, at: api.clock.now() - t0, init });
    const fault = faults.shift();
    const work = (async (): Promise<ResponseLike> => {
      if (fault === 'network') throw new TypeError('fetch failed');
      if (fault === 'hang') {
        const signal = init.signal as AbortSignal;
        await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
      }
      if (typeof fault === 'object') {
        const headers = new Map(Object.entries(fault.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
        return { status: fault.status, headers: { get: (n) => headers.get(n.toLowerCase()) ?? null }, text: async () => (fault.body === undefined ? '' : JSON.stringify(fault.body)) };
      }
      const res = await api.app.inject({
        method: init.method as 'GET' | 'POST', url: path, headers: init.headers,
        ...(init.body === undefined ? {} : { payload: init.body }),
      });
      return { status: res.statusCode, headers: { get: (n) => (res.headers[n.toLowerCase()] as string | undefined) ?? null }, text: async () => res.body };
    })();
    // Hung requests are not work to wait for: they end only when the client's timer aborts them.
    if (fault !== 'hang') {
      pending.add(work);
      void work.catch(() => undefined).finally(() => pending.delete(work));
    }
    return work;
  };

  const document = fakeDocument();
  const page = fakePage();
  return {
    api, account, calls, faults, timers, document, page, fetch, settle,
    elapsed: () => api.clock.now() - t0,
    client: (o = {}) => createMiningClient({
      baseUrl: 'http://api.test', token: api.token({ sub: account }), fetch, now: api.clock.now, timers, random: () => 1, document, page, ...o,
    }),
    async events(accountId = account) {
      const out: Array<{ type: string; t: number; data: Record<string, unknown> }> = [];
      try {
        for await (const e of api.store.readStream(`mining-${accountId}`) as AsyncIterable<RecordedEvent>) {
          const data = e.data as Record<string, unknown>;
          out.push({ type: e.type, t: Date.parse(String(data.at)) - t0, data });
        }
      } catch (error) {
        if (!/no.?stream|not found/i.test(String(error))) throw error;
      }
      return out;
    },
  };
}
