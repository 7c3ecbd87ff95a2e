// The streamed RFC 9162 tree head against published vectors (transparency-dev/merkle) and against
// the RFC's recursive definition, and its O(log n) memory.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { leafHash, MerkleStream, nodeHash } from '../../src/audit/merkle.js';

const vectors = JSON.parse(readFileSync(new URL('./fixtures/rfc6962-roots.json', import.meta.url), 'utf8')) as {
  leafInputsHex: string[];
  rootsBySize: string[];
};

t.test('tree heads match the transparency-dev reference roots for every size 0..8', async (t) => {
  const tree = new MerkleStream();
  t.equal(tree.root().toString('hex'), vectors.rootsBySize[0], 'the empty tree is SHA-256 of nothing');
  vectors.leafInputsHex.forEach((hex, i) => {
    tree.append(Buffer.from(hex, 'hex'));
    t.equal(tree.root().toString('hex'), vectors.rootsBySize[i + 1], `size ${i + 1}`);
  });
});

/** RFC 9162 §2.1.1 as written: split at the largest power of two below n. */
function reference(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leafHash(leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(reference(leaves.slice(0, k)), reference(leaves.slice(k)));
}

t.test('the streamed head equals the recursive definition at every size up to 130, and holds at most log2(n)+1 nodes', async (t) => {
  const leaves: Buffer[] = [];
  const tree = new MerkleStream();
  let agree = 0;
  for (let n = 1; n <= 130; n++) {
    const leaf = randomBytes(32);
    leaves.push(leaf);
    tree.append(leaf);
    if (tree.root().equals(reference(leaves))) agree++;
    t.ok(tree.held <= Math.floor(Math.log2(n)) + 1, `size ${n}: ${tree.held} nodes held`);
  }
  t.equal(agree, 130);
  t.equal(tree.size, 130);
});

t.test('leaf and node hashes are domain-separated: a node is not a leaf of its concatenation', async (t) => {
  const a = leafHash(Buffer.from('a'));
  const b = leafHash(Buffer.from('b'));
  t.not(nodeHash(a, b).toString('hex'), leafHash(Buffer.concat([a, b])).toString('hex'));
});
