// The command handler: load state, decide, append with the expected revision, retry only on a
// revision conflict. Shared by the API and the sweeper.
import { decide, evolve, type Decision, type MiningCommand, type MiningSettings, type MiningState } from '../domain/decider.js';
import { streamOf } from '../domain/events.js';
import type { SessionAccrual } from '../domain/session.js';
import { WrongExpectedRevisionError } from '../store/port.js';
import type { Clock, IdGenerator } from './clock.js';
import { encode, type CommandContext, type MiningStore } from './codec.js';
import { isoFormatter } from './iso-text.js';
import { keyedQueue } from './keyed-queue.js';
import { loadState, stateCache, type LoadedState } from './state-loader.js';

export type { MiningSettings } from '../domain/decider.js';

export type CommandRequest =
  | { type: 'start' }
  | { type: 'heartbeat'; sessionId?: string | undefined }
  | { type: 'stop' }
  | { type: 'expire' };

export interface CommandResult {
  accountId: string;
  decision: Decision;
  /** Decision state after the written events. */
  state: MiningState;
  /** The session the answer is about: the active one, or the one this command stopped. */
  session: SessionAccrual | null;
  /** Position of the last event written, or of the stream's last event when nothing was written. */
  position: bigint;
  written: number;
}

/** Retries exhausted: the caller answers 503 and nothing was written. */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
}

export interface CommandHandlerOptions {
  store: MiningStore;
  clock: Clock;
  ids: IdGenerator;
  settings: () => MiningSettings;
  maxAttempts?: number;
  /** Waits before a retry; injected so tests need not sleep. */
  backoff?: (attempt: number) => Promise<void>;
  cacheEntries?: number;
  /** Sees each command decided with a clock behind its stream's last event (a clamp, SPEC §2). */
  onClamped?: (command: CommandRequest['type']) => void;
}

export interface CommandHandler {
  execute(accountId: string, request: CommandRequest, context: CommandContext): Promise<CommandResult>;
  /** Forget cached state (e.g. after another process is known to have written). */
  forget(accountId: string): void;
}

const jitter = (attempt: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.random() * 5 * 2 ** attempt));

function toCommand(accountId: string, request: CommandRequest, now: number, settings: MiningSettings, newId: () => string): MiningCommand {
  switch (request.type) {
    case 'start':
      return {
        type: 'start', accountId, now, sessionId: newId(),
        rateUnitsPerHour: settings.rateUnitsPerHour, heartbeatTimeoutMs: settings.heartbeatTimeoutMs, maxSessionMs: settings.maxSessionMs,
      };
    case 'heartbeat':
      return { type: 'heartbeat', now, sessionId: request.sessionId, minHeartbeatIntervalMs: settings.minHeartbeatIntervalMs };
    case 'stop':
      return { type: 'stop', now };
    case 'expire':
      return { type: 'expire', now, graceMs: settings.sweepGraceMs };
  }
}

function sessionOf(state: MiningState, decision: Decision): SessionAccrual | null {
  const stopped = decision.events.some((e) => e.type === 'MiningStopped');
  return state.active ?? (stopped ? state.lastStopped : null);
}

export function createCommandHandler(options: CommandHandlerOptions): CommandHandler {
  const { store, clock, ids } = options;
  const maxAttempts = options.maxAttempts ?? 5;
  const backoff = options.backoff ?? jitter;
  const cache = stateCache(options.cacheEntries);
  const queue = keyedQueue();
  const isoOf = isoFormatter();

  async function attempt(accountId: string, stream: string, request: CommandRequest, context: CommandContext): Promise<CommandResult> {
    const cached = cache.get(stream);
    let loaded: LoadedState = cached ?? (await loadState(store, stream));
    const now = clock.now();
    const settings = options.settings();
    const decideOn = (from: LoadedState) => decide(from.state, toCommand(accountId, request, now, settings, () => ids.next()), isoOf);
    let decision = decideOn(loaded);
    // A write is checked by its expected revision; an answer that writes nothing is checked here,
    // or a cache that missed another process's commit would answer from the past.
    if (decision.events.length === 0 && cached && (await store.streamRevision(stream)) !== cached.revision) {
      loaded = await loadState(store, stream);
      decision = decideOn(loaded);
    }
    let state = loaded.state;
    for (const event of decision.events) state = evolve(state, event);
    if (decision.events.length === 0) {
      cache.set(stream, loaded);
      return { accountId, decision, state, session: sessionOf(state, decision), position: loaded.position, written: 0 };
    }
    const recordedAt = isoOf(now);
    // The chain continues from the loaded state's last hash: one SHA-256 per event, no read.
    let revision = loaded.revision === 'no_stream' ? 0n : loaded.revision + 1n;
    let prevHash = loaded.lastHash;
    const events = decision.events.map((event) => {
      const encoded = encode(event, ids.next(), recordedAt, context, { stream, revision: revision++, prevHash });
      prevHash = (encoded.metadata as { hash: string }).hash;
      return encoded;
    });
    const expected = loaded.revision === 'no_stream' ? 'no_stream' : loaded.revision;
    const result = await store.append(stream, events, expected);
    cache.set(stream, { state, revision: result.nextExpectedRevision, position: result.position, lastHash: prevHash });
    return { accountId, decision, state, session: sessionOf(state, decision), position: result.position, written: events.length };
  }

  return {
    execute(accountId, request, context) {
      const stream = streamOf(accountId);
      return queue.run(stream, async () => {
        for (let n = 1; ; n++) {
          try {
            const result = await attempt(accountId, stream, request, context);
            if (result.decision.clamped) options.onClamped?.(request.type);
            return result;
          } catch (error) {
            cache.delete(stream);
            if (!(error instanceof WrongExpectedRevisionError)) throw error;
            if (n >= maxAttempts) {
              throw new UnavailableError(`stream ${stream} kept changing under ${maxAttempts} attempts; retry later`);
            }
            await backoff(n);
          }
        }
      });
    },
    forget(accountId) {
      cache.delete(streamOf(accountId));
    },
  };
}
