// Decision state for a command: read the stream backwards only to the active session's start
// (or the last stop), never a whole year of heartbeats; a revision-checked cache makes it rarer.
import type { MiningStore } from './codec.js';
import { evolve, initialState, type MiningState } from '../domain/decider.js';
import type { MiningEvent } from '../domain/events.js';
import { eventHash } from '../audit/chain.js';

export interface LoadedState {
  state: MiningState;
  /** Revision of the stream's last event, or 'no_stream'. */
  revision: bigint | 'no_stream';
  /** Global position of the stream's last event (0n when none). */
  position: bigint;
  /** Hash of the stream's last event, the next one's prevHash (recomputed for an unchained one); null when none. */
  lastHash: string | null;
}

export async function loadState(store: MiningStore, stream: string): Promise<LoadedState> {
  const newestFirst: MiningEvent[] = [];
  let revision: bigint | 'no_stream' = 'no_stream';
  let position = 0n;
  let lastHash: string | null = null;
  // Adjustments are not session boundaries: a stop followed only by adjustments still ends the read.
  let onlyAdjustments = true;
  for await (const recorded of store.readStream(stream, { direction: 'backwards' })) {
    const { event, metadata } = recorded;
    if (revision === 'no_stream') {
      revision = recorded.revision;
      position = recorded.position;
      lastHash = metadata.hash ?? eventHash(recorded);
    }
    newestFirst.push(event);
    if (event.type === 'MiningStarted' || (event.type === 'MiningStopped' && onlyAdjustments)) break;
    if (event.type !== 'BalanceAdjusted') onlyAdjustments = false;
  }
  let state = initialState;
  for (let i = newestFirst.length - 1; i >= 0; i--) state = evolve(state, newestFirst[i]!);
  // A stream that ends in a stop has no active session to carry; only the clock floor matters.
  if (state.active === null) state = { ...state, lastStopped: null };
  return { state, revision, position, lastHash };
}

/**
 * A bounded LRU of decision state. An entry is only a hint: a write is checked by the append's
 * expected revision, an answer without a write by the stream's current revision (handler.ts).
 */
export interface StateCache {
  get(stream: string): LoadedState | undefined;
  set(stream: string, loaded: LoadedState): void;
  delete(stream: string): void;
  readonly size: number;
}

export function stateCache(maxEntries = 200_000): StateCache {
  const entries = new Map<string, LoadedState>();
  return {
    get(stream) {
      const hit = entries.get(stream);
      if (hit) {
        entries.delete(stream);
        entries.set(stream, hit);
      }
      return hit;
    },
    set(stream, loaded) {
      entries.delete(stream);
      entries.set(stream, loaded);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
    delete(stream) {
      entries.delete(stream);
    },
    get size() {
      return entries.size;
    },
  };
}
