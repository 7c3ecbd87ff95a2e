// The per-stream hash chain (SPEC §12): each event's metadata carries `hash`, the SHA-256 of its
// RFC 8785 canonical form {stream, revision, type, data, metadata without hash}, and `prevHash`, the
// hash of the event before it in the stream (null for revision 0). Any adapter can recompute it from
// what it stored, because the canonical form does not depend on how the JSON was written.
import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';

export interface ChainedFields {
  hash?: string | undefined;
  prevHash?: string | null | undefined;
}

export interface HashableEvent {
  stream: string;
  revision: bigint | number;
  type: string;
  data: unknown;
  metadata: unknown;
}

/** The event's hash: SHA-256 (lowercase hex) of its canonical form, the metadata's own `hash` left out. */
export function eventHash(event: HashableEvent): string {
  const { hash: _stored, ...metadata } = (event.metadata ?? {}) as Record<string, unknown>;
  const canonical = canonicalize({
    stream: event.stream, revision: Number(event.revision), type: event.type, data: event.data, metadata,
  });
  return createHash('sha256').update(canonical!).digest('hex');
}

/** Sets `prevHash` and `hash` on metadata that is about to be written at `revision` of `stream`. */
export function chainMetadata<M extends object>(
  stream: string, revision: bigint, type: string, data: unknown, metadata: M, prevHash: string | null,
): M & { hash: string; prevHash: string | null } {
  const linked = { ...metadata, prevHash };
  return { ...linked, hash: eventHash({ stream, revision, type, data, metadata: linked }) };
}

/** The first broken link of a stream: where, and what differs. */
export interface ChainBreak {
  stream: string;
  revision: bigint;
  position: bigint;
  what: string;
}

export interface StoredEvent extends HashableEvent {
  revision: bigint;
  position: bigint;
}

/**
 * Follows one stream's chain event by event. Events from before the chain (no `hash`) are counted as
 * unchained while they open the stream; the chain then continues from the hash they would have had,
 * which is what the command handler links the first chained event to. After a break nothing more is
 * judged: the first broken link is the finding.
 */
/** What a follower knows, to hand over between threads (structured-clone safe). */
export interface ChainState {
  stream: string;
  unchained: number;
  chained: number;
  broken: ChainBreak | null;
  lastHash: string | null;
  lastRevision: bigint;
}

/** The chain as replay and the audit JSON report it. */
export interface ChainSummary {
  chained: number;
  unchained: number;
  broken: ChainBreak | null;
}

export class ChainFollower {
  unchained = 0;
  chained = 0;
  broken: ChainBreak | null = null;
  /** Hash of the last event followed (as recomputed); null before the first. */
  lastHash: string | null = null;
  private lastRevision = -1n;

  constructor(readonly stream: string, from?: ChainState) {
    if (from) {
      this.unchained = from.unchained;
      this.chained = from.chained;
      this.broken = from.broken;
      this.lastHash = from.lastHash;
      this.lastRevision = from.lastRevision;
    }
  }

  state(): ChainState {
    const { stream, unchained, chained, broken, lastHash, lastRevision } = this;
    return { stream, unchained, chained, broken, lastHash, lastRevision };
  }

  summary(): ChainSummary {
    return { chained: this.chained, unchained: this.unchained, broken: this.broken };
  }

  /** Checks the next event of the stream; returns its recomputed hash. */
  follow(event: StoredEvent): string {
    const computed = eventHash(event);
    if (this.broken) return computed;
    const meta = (event.metadata ?? {}) as ChainedFields;
    const fail = (what: string) => {
      this.broken = { stream: this.stream, revision: event.revision, position: event.position, what };
    };
    if (event.revision !== this.lastRevision + 1n) {
      fail(this.lastRevision < 0n
        ? `the stream starts at revision ${event.revision}, not 0: events before it are missing`
        : `revision ${event.revision} follows revision ${this.lastRevision}: ${event.revision > this.lastRevision + 1n ? 'events are missing' : 'revisions are out of order'}`);
    } else if (meta.hash === undefined) {
      if (this.chained > 0) fail('hash is missing after the chain began (metadata hash removed)');
      else this.unchained++;
    } else if (meta.prevHash !== this.lastHash) {
      fail(this.lastHash === null && event.revision > 0n
        ? `prevHash is ${String(meta.prevHash)}, but the event before it is missing`
        : `prevHash is ${String(meta.prevHash)}, the event before it hashes to ${String(this.lastHash)} (an event was edited, removed or moved)`);
    } else if (meta.hash !== computed) {
      fail(`hash is ${meta.hash}, the event as stored hashes to ${computed} (its type, data or metadata was changed)`);
    } else {
      this.chained++;
    }
    this.lastHash = computed;
    this.lastRevision = event.revision;
    return computed;
  }
}

export function describeBreak(broken: ChainBreak): string {
  return `${broken.stream}@${broken.revision} (position ${broken.position}): ${broken.what}`;
}

export interface ChainJson {
  chained: number;
  unchained: number;
  broken: { stream: string; revision: string; position: string; what: string } | null;
}

/** The chain summary for the ledger JSON (positions and revisions as decimal strings). */
export function chainJson(summary: ChainSummary | undefined): ChainJson {
  const broken = summary?.broken ?? null;
  return {
    chained: summary?.chained ?? 0,
    unchained: summary?.unchained ?? 0,
    broken: broken && { stream: broken.stream, revision: broken.revision.toString(), position: broken.position.toString(), what: broken.what },
  };
}

/** One line for people: "intact (12 events chained)", "BROKEN at …". */
export function describeChain(summary: ChainSummary | undefined): string {
  if (!summary) return 'not checked';
  if (summary.broken) return `BROKEN at ${describeBreak(summary.broken)}`;
  const unchained = summary.unchained > 0 ? `, ${summary.unchained} unchained from before the chain` : '';
  return `intact (${summary.chained} events chained${unchained})`;
}
