// Signed checkpoints (SPEC §12): an RFC 9162 tree head over every event's hash in global position
// order, signed with Ed25519. Leaves are the hashes recomputed from what is stored, so an event
// edited after a checkpoint changes the root whether or not its stored hashes were rewritten.
import canonicalize from 'canonicalize';
import { sign, verify, type KeyObject } from 'node:crypto';
import { STREAM_PREFIX } from '../domain/events.js';
import { toIso } from '../domain/time.js';
import { pageReader } from '../projections/projector/page-reader.js';
import type { EventStore } from '../store/port.js';
import { eventHash } from './chain.js';
import { keyIdOf } from './keys.js';
import { MerkleStream } from './merkle.js';

export interface Checkpoint {
  /** Global position of the last event covered (decimal string; "0" for an empty store). */
  position: string;
  /** Events covered. */
  size: number;
  /** RFC 9162 Merkle tree head, lowercase hex. */
  root: string;
  at: string;
  keyId: string;
  /** Ed25519 over signedBytes(), base64. */
  signature: string;
}

const CONTEXT = 'mining-ledger checkpoint v1\n';

/** What is signed: a context line, then the RFC 8785 form of every field but the signature. */
export function signedBytes(checkpoint: Omit<Checkpoint, 'signature'>): Buffer {
  const { position, size, root, at, keyId } = checkpoint;
  return Buffer.from(CONTEXT + canonicalize({ position, size, root, at, keyId })!, 'utf8');
}

/** Every `mining-` event's recomputed hash, in position order, up to and including `until`. */
export async function* eventLeaves(store: EventStore, until: bigint | null = null): AsyncGenerator<{ position: bigint; hash: Buffer }> {
  const read = pageReader(store);
  let after = 0n;
  for (;;) {
    const page = await read(after, 2000);
    if (page.length === 0) return;
    for (const recorded of page) {
      if (until !== null && recorded.position > until) return;
      if (!recorded.stream.startsWith(STREAM_PREFIX)) continue;
      yield { position: recorded.position, hash: Buffer.from(eventHash(recorded), 'hex') };
    }
    after = page[page.length - 1]!.position;
  }
}

/** Tree head over the store up to its current head, signed. */
export async function takeCheckpoint(store: EventStore, key: { privateKey: KeyObject; publicKey: KeyObject }, now: number): Promise<Checkpoint> {
  const head = await store.headPosition();
  const until = head === 'start' ? 0n : head;
  const tree = new MerkleStream();
  for await (const leaf of eventLeaves(store, until)) tree.append(leaf.hash);
  const unsigned = { position: until.toString(), size: tree.size, root: tree.root().toString('hex'), at: toIso(now), keyId: keyIdOf(key.publicKey) };
  return { ...unsigned, signature: sign(null, signedBytes(unsigned), key.privateKey).toString('base64') };
}

export interface CheckpointFinding {
  /** 1-based line of the checkpoint file. */
  line: number;
  checkpoint: Checkpoint | null;
  /** Null when the checkpoint holds; otherwise what is wrong. */
  problem: string | null;
}

/** Parses a checkpoints file; a line that is not a checkpoint is a finding, not an exception. */
export function parseCheckpoints(text: string): CheckpointFinding[] {
  const findings: CheckpointFinding[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      findings.push({ line: i + 1, checkpoint: null, problem: 'not JSON' });
      return;
    }
    const c = value as Partial<Checkpoint>;
    const wellFormed = typeof c === 'object' && c !== null && typeof c.position === 'string' && /^(0|[1-9][0-9]*)$/.test(c.position) &&
      Number.isSafeInteger(c.size) && c.size! >= 0 && typeof c.root === 'string' && /^[0-9a-f]{64}$/.test(c.root) &&
      typeof c.at === 'string' && typeof c.keyId === 'string' && typeof c.signature === 'string';
    findings.push(wellFormed
      ? { line: i + 1, checkpoint: c as Checkpoint, problem: null }
      : { line: i + 1, checkpoint: null, problem: 'not a checkpoint {position, size, root, at, keyId, signature}' });
  });
  return findings;
}

function signatureProblem(checkpoint: Checkpoint, publicKey: KeyObject, keyId: string): string | null {
  if (checkpoint.keyId !== keyId) return `signed by key ${checkpoint.keyId}, not by the public key given (${keyId})`;
  const signature = Buffer.from(checkpoint.signature, 'base64');
  return verify(null, signedBytes(checkpoint), publicKey, signature) ? null : 'bad signature: the checkpoint was not signed by this key as it reads';
}

/**
 * Checks every checkpoint's signature, then, in one pass over the log, that the store still hashes
 * to each root at each position. Memory: the streaming tree (O(log n)) and the checkpoints.
 */
export async function verifyCheckpoints(store: EventStore, findings: CheckpointFinding[], publicKey: KeyObject): Promise<CheckpointFinding[]> {
  const keyId = keyIdOf(publicKey);
  for (const finding of findings) {
    if (finding.checkpoint && finding.problem === null) finding.problem = signatureProblem(finding.checkpoint, publicKey, keyId);
  }
  // Roots are checked for every well-formed checkpoint, signed or not: both findings help an auditor.
  const pending = findings.filter((f) => f.checkpoint !== null).sort((a, b) => Number(BigInt(a.checkpoint!.position) - BigInt(b.checkpoint!.position)) || a.line - b.line);
  if (pending.length === 0) return findings;
  const tree = new MerkleStream();
  let next = 0;
  const judge = (finding: CheckpointFinding) => {
    const c = finding.checkpoint!;
    const root = tree.root().toString('hex');
    let problem: string | null = null;
    if (tree.size !== c.size) {
      problem = `the store holds ${tree.size} events up to position ${c.position}, the checkpoint ${c.size} (events were ${tree.size < c.size ? 'deleted or the store truncated' : 'inserted'})`;
    } else if (root !== c.root) {
      problem = `the store up to position ${c.position} hashes to ${root}, the checkpoint's root is ${c.root} (an event was edited or moved)`;
    }
    if (problem) finding.problem = finding.problem ? `${finding.problem}; ${problem}` : problem;
  };
  const last = BigInt(pending[pending.length - 1]!.checkpoint!.position);
  for await (const leaf of eventLeaves(store, last)) {
    while (next < pending.length && leaf.position > BigInt(pending[next]!.checkpoint!.position)) judge(pending[next++]!);
    tree.append(leaf.hash);
  }
  while (next < pending.length) judge(pending[next++]!);
  return findings;
}
