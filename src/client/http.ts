// A typed method per route of SPEC §5/§10. Browser-safe: fetch, URL encoding and atob only.
import { MiningApiError, parseRetryAfter } from './errors.js';
import type {
  AccountView, AdjustmentInput, AdjustmentResult, AdjustmentsList, ApiErrorBody, AuditLedgerView,
  HeartbeatResult, SessionsPage, StartAnswer, StopAnswer,
} from './types.js';

/** The part of a fetch Response the client reads. */
export interface ResponseLike {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}
export interface RequestInitLike {
  method: string;
  headers: Record<string, string>;
  body?: string;
  keepalive?: boolean;
  signal?: unknown;
}
export type FetchLike = (url: string, init: RequestInitLike) => Promise<ResponseLike>;

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface HttpOptions {
  baseUrl: string;
  /** A bearer token; or `getToken` for one that is refreshed. */
  token?: string;
  getToken?: () => string | Promise<string>;
  /** Default: the token's `sub` (a user token acts on its own account). */
  accountId?: string;
  fetch?: FetchLike;
  /** Abort a request that has no answer after this long (default 10 s). */
  requestTimeoutMs?: number;
  now?: () => number;
  timers?: Timers;
}

/** Per call: another account (a gateway's or admin's token), or read-your-writes. */
export interface CallOptions { accountId?: string }
export interface ReadOptions extends CallOptions { minPosition?: string }

export interface MiningApi {
  start(options?: CallOptions): Promise<StartAnswer & { created: boolean }>;
  heartbeat(options?: CallOptions & { sessionId?: string }): Promise<HeartbeatResult>;
  stop(options?: CallOptions): Promise<StopAnswer>;
  account(options?: ReadOptions): Promise<AccountView>;
  sessions(options?: ReadOptions & { limit?: number; cursor?: string }): Promise<SessionsPage>;
  audit(options?: ReadOptions & { at?: string }): Promise<AuditLedgerView>;
  adjust(adjustment: AdjustmentInput, options?: CallOptions): Promise<AdjustmentResult & { created: boolean }>;
  adjustments(options?: ReadOptions & { limit?: number; cursor?: string }): Promise<AdjustmentsList>;
  /** Fire-and-forget stop that outlives the page (`fetch` keepalive); uses the last token seen. */
  stopOnUnload(options?: CallOptions): boolean;
}

/** The `sub` claim of a JWT, read (not verified: the server does that). */
export function subjectOf(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '='));
    const sub = (JSON.parse(json) as { sub?: unknown }).sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}

export function createMiningApi(options: HttpOptions): MiningApi {
  const base = options.baseUrl.replace(/\/+$/, '');
  const fetchImpl = options.fetch ?? ((url, init) => globalThis.fetch(url, init as RequestInit));
  const now = options.now ?? Date.now;
  const timers = options.timers ?? globalThis;
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  if (options.token === undefined && options.getToken === undefined) throw new TypeError('createMiningClient: token or getToken is required');
  let lastToken = options.token;

  async function token(): Promise<string> {
    lastToken = options.getToken ? await options.getToken() : options.token!;
    return lastToken;
  }

  function urlOf(accountId: string | undefined, path: string, query: Record<string, string | number | undefined> = {}): string {
    const id = accountId ?? options.accountId ?? (lastToken === undefined ? undefined : subjectOf(lastToken));
    if (id === undefined) throw new MiningApiError(0, 'NO_ACCOUNT', 'no accountId: pass accountId, or use a token whose sub is the account');
    const search = Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&');
    return `${base}/v1/accounts/${encodeURIComponent(id)}${path}${search ? `?${search}` : ''}`;
  }

  async function call<T>(method: 'GET' | 'POST', accountId: string | undefined, path: string, body?: unknown, query?: Record<string, string | number | undefined>): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { authorization: `Bearer ${await token()}` };
    const url = urlOf(accountId, path, query);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const abort = typeof AbortController === 'function' ? new AbortController() : undefined;
    let timedOut = false;
    const timer = timers.setTimeout(() => { timedOut = true; abort?.abort(); }, timeoutMs);
    let response: ResponseLike;
    let text: string;
    try {
      response = await fetchImpl(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: abort?.signal });
      text = await response.text();
    } catch (error) {
      if (timedOut) throw new MiningApiError(0, 'TIMEOUT', `${method} ${url}: no answer within ${timeoutMs} ms`);
      throw new MiningApiError(0, 'NETWORK_ERROR', `${method} ${url}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      timers.clearTimeout(timer);
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (response.status >= 200 && response.status < 300) return { status: response.status, body: parsed as T };
    const error = (parsed ?? {}) as Partial<ApiErrorBody>;
    throw new MiningApiError(
      response.status,
      typeof error.code === 'string' ? error.code : `HTTP_${response.status}`,
      typeof error.message === 'string' ? error.message : `${method} ${url} answered ${response.status}`,
      parseRetryAfter(response.headers.get('retry-after'), now()),
    );
  }

  const get = async <T>(path: string, o: ReadOptions = {}, query: Record<string, string | number | undefined> = {}) =>
    (await call<T>('GET', o.accountId, path, undefined, { minPosition: o.minPosition, ...query })).body;

  return {
    async start(o = {}) {
      const answer = await call<StartAnswer>('POST', o.accountId, '/mining/start');
      return { ...answer.body, created: answer.status === 201 };
    },
    async heartbeat(o = {}) {
      return (await call<HeartbeatResult>('POST', o.accountId, '/mining/heartbeat', o.sessionId === undefined ? undefined : { sessionId: o.sessionId })).body;
    },
    async stop(o = {}) {
      return (await call<StopAnswer>('POST', o.accountId, '/mining/stop')).body;
    },
    account: (o) => get<AccountView>('', o),
    sessions: (o = {}) => get<SessionsPage>('/sessions', o, { limit: o.limit, cursor: o.cursor }),
    audit: (o = {}) => get<AuditLedgerView>('/audit', o, { at: o.at }),
    async adjust(adjustment, o = {}) {
      const answer = await call<AdjustmentResult>('POST', o.accountId, '/adjustments', adjustment);
      return { ...answer.body, created: answer.status === 201 };
    },
    adjustments: (o = {}) => get<AdjustmentsList>('/adjustments', o, { limit: o.limit, cursor: o.cursor }),
    stopOnUnload(o = {}) {
      if (lastToken === undefined) return false;
      try {
        void fetchImpl(urlOf(o.accountId, '/mining/stop'), { method: 'POST', headers: { authorization: `Bearer ${lastToken}` }, keepalive: true })
          .catch(() => undefined);
        return true;
      } catch {
        return false;
      }
    },
  };
}
