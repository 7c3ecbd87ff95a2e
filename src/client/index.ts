// mining-ledger/client: the API's routes as typed methods, and keepMining for apps (SPEC §13).
// ESM with no Node-only imports; `serve` also ships it bundled at GET /ui/client.js.
import { createMiningApi, type HttpOptions, type MiningApi, type Timers } from './http.js';
import { keepMining, type KeepMiningOptions, type MiningController, type VisibilityDocument } from './keep-mining.js';

export { MiningApiError } from './errors.js';
export type { CallOptions, FetchLike, MiningApi, ReadOptions, RequestInitLike, ResponseLike, Timers } from './http.js';
export type { EndReason, KeepMiningOptions, KeepState, MiningController, UpdateKind, VisibilityDocument, WhenHidden } from './keep-mining.js';
export type * from './types.js';

/** The HTTP options (baseUrl, token | getToken, accountId, fetch, timeouts, clock), plus what keepMining watches. */
export interface MiningClientOptions extends HttpOptions {
  /** For tests and non-browser hosts: the randomness and page the client watches (clock and timers: HttpOptions). */
  random?: () => number;
  /** Default globalThis.document; null for none (e.g. React Native: pass your AppState adapter). */
  document?: VisibilityDocument | null;
  /** Where `pagehide` fires; default globalThis when it is an event target; null for none. */
  page?: { addEventListener(type: string, listener: () => void): void; removeEventListener(type: string, listener: () => void): void } | null;
}

export interface MiningClient extends MiningApi {
  keepMining(options?: KeepMiningOptions): MiningController;
}

export function createMiningClient(options: MiningClientOptions): MiningClient {
  const now = options.now ?? (() => Date.now());
  const timers: Timers = options.timers ?? { setTimeout: (f, ms) => globalThis.setTimeout(f, ms), clearTimeout: (h) => globalThis.clearTimeout(h as number) };
  const api = createMiningApi({ ...options, now, timers });
  const global = globalThis as { document?: VisibilityDocument; addEventListener?: unknown };
  const env = {
    now,
    timers,
    random: options.random ?? Math.random,
    document: options.document === null ? undefined : options.document ?? global.document,
    page: options.page === null ? undefined : options.page ?? (typeof global.addEventListener === 'function' ? (globalThis as unknown as NonNullable<MiningClientOptions['page']>) : undefined),
  };
  return { ...api, keepMining: (keep) => keepMining(api, env, keep) };
}
