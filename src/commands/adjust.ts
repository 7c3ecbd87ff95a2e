// The *adjust* command (SPEC §10): read the account's stream, decide, append with the expected
// revision, retry only on a revision conflict. Shared by the API, `adjust` and `import`.
// The whole stream is folded: the balance checked is the account's full balance, and adjustments
// are rare (an operator's act), so this read is off every hot path.
import { adjustmentFold, decideAdjust, type AdjustCommand, type AdjustDecision } from '../domain/adjustment.js';
import { isoOf, streamOf, type Actor } from '../domain/events.js';
import { WrongExpectedRevisionError } from '../store/port.js';
import type { Clock, IdGenerator } from './clock.js';
import { encode, type CommandContext, type MiningStore } from './codec.js';
import { UnavailableError } from './handler.js';
import { eventHash } from '../audit/chain.js';

export type AdjustRequest = Omit<AdjustCommand, 'type' | 'now' | 'accountId'>;

export interface AdjustResult {
  accountId: string;
  decision: AdjustDecision;
  /** Who recorded the adjustment the answer is about (the original's actor for a repeat). */
  actor: Actor | null;
  /** Position of the event written, or of the stream's last event when nothing was written. */
  position: bigint;
  written: number;
}

export interface AdjusterOptions {
  store: MiningStore;
  clock: Clock;
  ids: IdGenerator;
  maxAttempts?: number;
  backoff?: (attempt: number) => Promise<void>;
  /** Decide, never append (`import --dry-run`): a new adjustment comes back created, with written 0. */
  dryRun?: boolean;
  /** Told after a write, so a command handler's cached state for the stream is dropped. */
  onWritten?: (accountId: string) => void;
}

export interface Adjuster {
  adjust(accountId: string, request: AdjustRequest, context: CommandContext): Promise<AdjustResult>;
}

const jitter = (attempt: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.random() * 5 * 2 ** attempt));

export function createAdjuster(options: AdjusterOptions): Adjuster {
  const { store, clock, ids } = options;
  const maxAttempts = options.maxAttempts ?? 5;
  const backoff = options.backoff ?? jitter;

  async function attempt(accountId: string, request: AdjustRequest, context: CommandContext): Promise<AdjustResult> {
    const stream = streamOf(accountId);
    const fold = adjustmentFold();
    const actors = new Map<string, Actor>();
    let revision: bigint | 'no_stream' = 'no_stream';
    let position = 0n;
    let lastHash: string | null = null;
    for await (const recorded of store.readStream(stream)) {
      const { event, metadata } = recorded;
      lastHash = metadata.hash ?? eventHash(recorded);
      fold.apply(event);
      if (event.type === 'BalanceAdjusted') actors.set(event.data.adjustmentId, metadata.actor);
      revision = recorded.revision;
      position = recorded.position;
    }
    const now = clock.now();
    const decision = decideAdjust(fold.state(), { ...request, type: 'adjust', accountId, now });
    if (decision.events.length === 0) {
      const actor = decision.adjustment ? (actors.get(decision.adjustment.adjustmentId) ?? null) : null;
      return { accountId, decision, actor, position, written: 0 };
    }
    if (options.dryRun) return { accountId, decision, actor: context.actor, position, written: 0 };
    // Chained like the command handler's events (SPEC §12): an unchained adjustment would read as a broken link.
    let next = revision === 'no_stream' ? 0n : revision + 1n;
    const events = decision.events.map((event) => {
      const encoded = encode(event, ids.next(), isoOf(now), context, { stream, revision: next++, prevHash: lastHash });
      lastHash = (encoded.metadata as { hash: string }).hash;
      return encoded;
    });
    const result = await store.append(stream, events, revision);
    options.onWritten?.(accountId);
    return { accountId, decision, actor: context.actor, position: result.position, written: events.length };
  }

  return {
    async adjust(accountId, request, context) {
      for (let n = 1; ; n++) {
        try {
          return await attempt(accountId, request, context);
        } catch (error) {
          if (!(error instanceof WrongExpectedRevisionError)) throw error;
          if (n >= maxAttempts) throw new UnavailableError(`stream ${streamOf(accountId)} kept changing under ${maxAttempts} attempts; retry later`);
          await backoff(n);
        }
      }
    },
  };
}
