// RFC 9162 §2.1.1 Merkle tree head, streamed: leaves are appended one by one and the tree keeps one
// node per complete subtree (the binary digits of its size), O(log n) memory for any n. Hand-written
// (30 lines) because the usual npm tree (merkletreejs) has no leaf/node domain separation.
import { createHash } from 'node:crypto';

const LEAF = Buffer.from([0x00]);
const NODE = Buffer.from([0x01]);

export function leafHash(data: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF).update(data).digest();
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE).update(left).update(right).digest();
}

export class MerkleStream {
  /** Roots of the complete subtrees, largest (leftmost) first; sizes are decreasing powers of two. */
  private readonly subtrees: { hash: Buffer; size: number }[] = [];
  size = 0;

  append(data: Uint8Array): void {
    let hash = leafHash(data);
    let size = 1;
    while (this.subtrees.length > 0 && this.subtrees[this.subtrees.length - 1]!.size === size) {
      hash = nodeHash(this.subtrees.pop()!.hash, hash);
      size *= 2;
    }
    this.subtrees.push({ hash, size });
    this.size++;
  }

  /** MTH of the leaves so far: the subtrees folded right to left, as the RFC's recursive split does. */
  root(): Buffer {
    if (this.subtrees.length === 0) return createHash('sha256').digest();
    let hash = this.subtrees[this.subtrees.length - 1]!.hash;
    for (let i = this.subtrees.length - 2; i >= 0; i--) hash = nodeHash(this.subtrees[i]!.hash, hash);
    return hash;
  }

  /** Subtree nodes held (for the memory bound: at most log2(size) + 1). */
  get held(): number {
    return this.subtrees.length;
  }
}
