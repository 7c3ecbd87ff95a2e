// `checkpoint [--out FILE] [--public-key]`: a signed RFC 9162 tree head over the whole store,
// appended as one JSON line to FILE (default DATA_DIR/checkpoints.jsonl). Auditors keep these lines
// (and the public key) where we cannot edit them; `verify --checkpoints` checks the store against them.
import { appendFileSync, fsyncSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { takeCheckpoint } from '../audit/checkpoint.js';
import { publicKeyPem, signingKey } from '../audit/keys.js';
import { systemClock } from '../commands/clock.js';
import { openEventStore } from '../store/open.js';
import { miningCodec } from '../commands/codec.js';
import { stringFlag, UsageError } from './args.js';
import { EXIT_OK, type CliCommand } from './command.js';

export const CHECKPOINTS_FILE = 'checkpoints.jsonl';

export const command: CliCommand = {
  name: 'checkpoint',
  summary: 'appends a signed Merkle tree head of the event store (RFC 9162, Ed25519) to a checkpoints file',
  usage: 'checkpoint [--out FILE] [--public-key]',
  flags: {
    out: { type: 'string', value: 'FILE', description: 'checkpoints file to append to (default DATA_DIR/checkpoints.jsonl)' },
    'public-key': { type: 'boolean', description: 'print the signing public key as PEM (creating the key when absent) and exit' },
  },
  async run(context) {
    const config = context.config();
    const key = signingKey(config.dataDir);
    if (context.args.flags['public-key'] === true) {
      if (stringFlag(context.args, 'out') !== undefined) throw new UsageError('--public-key prints the key; it takes no --out');
      context.stdout.write(publicKeyPem(key.publicKey));
      return EXIT_OK;
    }
    const out = stringFlag(context.args, 'out') ?? join(config.dataDir, CHECKPOINTS_FILE);
    if (out === '') throw new UsageError('--out needs a file name');
    const store = await openEventStore(config.eventStoreUrl, { codec: miningCodec });
    let line: string;
    try {
      line = `${JSON.stringify(await takeCheckpoint(store, key, systemClock.now()))}\n`;
    } finally {
      await store.close();
    }
    try {
      appendFileSync(out, line, { mode: 0o644 });
      const fd = openSync(out, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      throw new UsageError(`cannot append to ${out}: ${(error as Error).message}`);
    }
    context.stdout.write(line);
    return EXIT_OK;
  },
};
