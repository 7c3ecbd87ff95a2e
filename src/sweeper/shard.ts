// Splitting accounts between sweeper instances: shard i of n owns the accounts whose stable hash
// is i modulo n. The hash (32-bit FNV-1a over the account id) must never change: instances of
// different versions running side by side have to agree on who owns what.

export interface Shard {
  /** 0-based: 0 .. count-1. */
  index: number;
  count: number;
}

export class ShardError extends Error {
  override readonly name = 'ShardError';
}

/**
 * 32-bit FNV-1a over UTF-16 code units (account ids are ASCII), from index `from`. Shards, verify's
 * partitions and the import's account set all hash with it; `seed` gives the set a second hash.
 */
export function stableHash(text: string, from = 0, seed = 0x811c9dc5): number {
  let hash = seed;
  for (let i = from; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

export function shardOf(accountId: string, count: number): number {
  return stableHash(accountId) % count;
}

export function validateShard(shard: Shard): Shard {
  const { index, count } = shard;
  if (!Number.isSafeInteger(count) || count < 1 || count > 65536) {
    throw new ShardError(`shard count must be an integer from 1 to 65536, got ${count}`);
  }
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) {
    throw new ShardError(`shard index must be an integer from 0 to ${count - 1}, got ${index}`);
  }
  return shard;
}

/** Parses "i/n" (0 <= i < n), as given to `--shard`. */
export function parseShard(text: string): Shard {
  const match = /^([0-9]{1,5})\/([0-9]{1,5})$/.exec(text.trim());
  if (!match) throw new ShardError(`shard must look like i/n with 0 <= i < n (e.g. 0/2), got "${text}"`);
  return validateShard({ index: Number(match[1]), count: Number(match[2]) });
}
