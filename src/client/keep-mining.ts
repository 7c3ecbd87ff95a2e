// keepMining (SPEC §13): start or resume the session, heartbeat at the server's cadence, pause while
// the page is hidden, stop on pagehide. The server is the judge of time; the client's one rule is to
// claim presence only while it is there: no heartbeat while paused, no retry after the deadline.
import { MiningApiError } from './errors.js';
import type { MiningApi, Timers } from './http.js';
import type { MiningSession } from './types.js';

export type WhenHidden = 'pause' | 'continue';
/** Why keeping ended: the user stopped; the deadline passed (timeout / max_duration); the server knows no
 *  session (NOT_MINING) or another one (SESSION_MISMATCH); or an answer that retrying cannot fix. */
export type EndReason = 'user' | 'timeout' | 'max_duration' | 'not_mining' | 'session_mismatch' | 'error';
export type UpdateKind = 'started' | 'resumed' | 'heartbeat';
export type KeepState = 'starting' | 'mining' | 'retrying' | 'paused' | 'ended';

export interface KeepMiningOptions {
  onUpdate?: (session: MiningSession, kind: UpdateKind) => void;
  onEnded?: (reason: EndReason, detail: { session: MiningSession | null; error?: MiningApiError }) => void;
  /** 'pause' (default): nothing is sent while the page is hidden. 'continue': heartbeats go on. */
  whenHidden?: WhenHidden;
  /** Send a stop (fetch keepalive) when the page goes away. Default true. */
  stopOnPageHide?: boolean;
  accountId?: string;
}

export interface MiningController {
  /** Stops the session (unless it already ended) and resolves with the final session. */
  stop(): Promise<MiningSession | null>;
  readonly session: MiningSession | null;
  readonly state: KeepState;
}

interface Listenable {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}
export interface VisibilityDocument extends Listenable { readonly visibilityState: string }

export interface PageEnvironment {
  now: () => number;
  timers: Timers;
  /** For backoff jitter, in [0, 1). */
  random: () => number;
  document: VisibilityDocument | undefined;
  /** Where `pagehide` fires (window). */
  page: Listenable | undefined;
}

const MAX_BACKOFF_MS = 30_000;

function expiryReason(session: MiningSession): 'timeout' | 'max_duration' {
  const bound = Date.parse(session.startedAt) + session.maxSessionMs;
  return session.maxSessionMs > 0 && session.deadline !== null && bound <= Date.parse(session.deadline) ? 'max_duration' : 'timeout';
}

export function keepMining(api: MiningApi, env: PageEnvironment, options: KeepMiningOptions = {}): MiningController {
  const whenHidden = options.whenHidden ?? 'pause';
  if (whenHidden !== 'pause' && whenHidden !== 'continue') throw new TypeError(`whenHidden must be 'pause' or 'continue'`);
  const call = options.accountId === undefined ? {} : { accountId: options.accountId };
  let session: MiningSession | null = null;
  /** Local time by which the server's deadline has passed at the latest estimate (measured from send times, so early). */
  let localDeadline = Infinity;
  let state: KeepState = 'starting';
  let ended = false;
  let timer: unknown;
  let inFlight: Promise<void> | null = null;
  let failures = 0;
  let stopping: Promise<MiningSession | null> | undefined;

  const hidden = () => whenHidden === 'pause' && env.document?.visibilityState === 'hidden';
  const clear = () => { if (timer !== undefined) env.timers.clearTimeout(timer); timer = undefined; };

  function run(task: () => Promise<void>): void {
    clear();
    inFlight = task().finally(() => { inFlight = null; });
  }

  /** The next step after `delay`, unless the page is hidden: then it waits for the page to return. */
  function schedule(delay: number, task: () => Promise<void>): void {
    if (ended) return;
    if (hidden()) { state = 'paused'; return; }
    timer = env.timers.setTimeout(() => { timer = undefined; run(task); }, Math.max(0, delay));
  }

  function end(reason: EndReason, error?: MiningApiError): void {
    if (ended) return;
    ended = true;
    state = 'ended';
    clear();
    detach();
    options.onEnded?.(reason, { session, ...(error ? { error } : {}) });
  }

  function presenceAt(sentAt: number, s: MiningSession): void {
    // The server recorded presence at or after sentAt, so this estimate of its deadline is never late.
    if (s.deadline !== null) localDeadline = sentAt + (Date.parse(s.deadline) - Date.parse(s.lastHeartbeatAt ?? s.startedAt));
  }

  function retry(error: MiningApiError, task: () => Promise<void>): void {
    failures++;
    const backoff = Math.min(1000 * 2 ** (failures - 1), MAX_BACKOFF_MS) * (0.5 + env.random() / 2);
    const delay = error.retryAfter !== undefined ? error.retryAfter * 1000 : backoff;
    const remaining = localDeadline - env.now();
    // A retry can only be honest while the session can still be alive.
    if (session !== null && (remaining <= 0 || (error.retryAfter !== undefined && delay > remaining))) return end(expiryReason(session), error);
    state = 'retrying';
    schedule(Math.min(delay, remaining), task);
  }

  function failed(error: unknown, task: () => Promise<void>): void {
    const e = error instanceof MiningApiError ? error : new MiningApiError(0, 'NETWORK_ERROR', String(error));
    if (e.code === 'SESSION_EXPIRED') return end(session ? expiryReason(session) : 'timeout', e);
    if (e.code === 'NOT_MINING') return end('not_mining', e);
    if (e.code === 'SESSION_MISMATCH') return end('session_mismatch', e);
    if (e.retryable) return retry(e, task);
    end('error', e);
  }

  async function heartbeat(): Promise<void> {
    const sentAt = env.now();
    try {
      const answer = await api.heartbeat({ ...call, sessionId: session!.sessionId });
      session = answer.session;
      if (ended) return;
      if (answer.recorded) presenceAt(sentAt, answer.session);
      failures = 0;
      state = 'mining';
      options.onUpdate?.(answer.session, 'heartbeat');
      schedule(sentAt + answer.session.heartbeatIntervalMs - env.now(), heartbeat);
    } catch (error) {
      if (!ended) failed(error, heartbeat);
    }
  }

  async function start(): Promise<void> {
    const sentAt = env.now();
    try {
      const answer = await api.start(call);
      session = answer.session;
      if (ended) return;
      failures = 0;
      state = 'mining';
      options.onUpdate?.(answer.session, answer.created ? 'started' : 'resumed');
      if (answer.created) {
        presenceAt(sentAt, answer.session);
        schedule(sentAt + answer.session.heartbeatIntervalMs - env.now(), heartbeat);
      } else {
        // An existing session's last presence is in the past and the server's clock unknown: assume it
        // agrees with ours, never beyond one timeout from now, until the heartbeat sent now answers.
        const { deadline, heartbeatTimeoutMs } = answer.session;
        if (deadline !== null) localDeadline = Math.min(Date.parse(deadline), sentAt + heartbeatTimeoutMs);
        run(heartbeat);
      }
    } catch (error) {
      if (!ended) failed(error, start);
    }
  }

  function onVisibility(): void {
    if (ended || whenHidden !== 'pause') return;
    if (hidden()) {
      clear();
      state = 'paused';
      return;
    }
    if (state !== 'paused' || inFlight) return;
    if (session === null) return run(start);
    if (env.now() > localDeadline) return end(expiryReason(session));
    run(heartbeat);
  }

  function onPageHide(): void {
    if (ended || options.stopOnPageHide === false || (session === null && inFlight === null)) return;
    api.stopOnUnload(call);
    end('user');
  }

  function detach(): void {
    env.document?.removeEventListener('visibilitychange', onVisibility);
    env.page?.removeEventListener('pagehide', onPageHide);
  }

  env.document?.addEventListener('visibilitychange', onVisibility);
  env.page?.addEventListener('pagehide', onPageHide);
  if (hidden()) state = 'paused';
  else run(start);

  return {
    get session() { return session; },
    get state() { return state; },
    stop() {
      stopping ??= (async () => {
        const wasEnded = ended;
        ended = true;
        clear();
        detach();
        await inFlight;
        if (wasEnded) return session;
        state = 'ended';
        try {
          session = (await api.stop(call)).session;
        } catch (error) {
          const e = error as MiningApiError;
          if (e.code !== 'NOT_MINING') {
            options.onEnded?.('error', { session, error: e });
            throw error;
          }
        }
        options.onEnded?.('user', { session });
        return session;
      })();
      return stopping;
    },
  };
}
