// `adjust <accountId> --amount A --reason R --note N [--reference X] [--id UUID]`: one balance
// correction from the command line, through the same adjust decision as the API (SPEC §10).
import { randomUUID } from 'node:crypto';
import { systemClock, uuidV7Generator } from '../commands/clock.js';
import { createAdjuster } from '../commands/adjust.js';
import { ADJUSTMENT_REASONS, isValidAccountId, NOTE_MAX_LENGTH, REFERENCE_MAX_LENGTH, type AdjustmentReason } from '../domain/events.js';
import { formatTokens, MoneyError, parseAdjustmentAmount } from '../domain/money.js';
import { openEventStore } from '../store/open.js';
import { miningCodec } from '../commands/codec.js';
import { stringFlag, UsageError } from './args.js';
import { EXIT_OK, EXIT_USAGE, type CliCommand } from './command.js';
import { operatorActor } from './operator.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function required(value: string | undefined, name: string): string {
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

export const command: CliCommand = {
  name: 'adjust',
  summary: 'adjusts the balance of one account with a BalanceAdjusted event (idempotent by --id)',
  usage: 'adjust <accountId> --amount A --reason correction|migration|goodwill|reversal --note N [--reference X] [--id UUID]',
  flags: {
    amount: { type: 'string', value: '<tokens>', description: 'signed tokens with up to 8 fraction digits, e.g. -7.64' },
    reason: { type: 'string', value: '<reason>', description: `one of ${ADJUSTMENT_REASONS.join(', ')}` },
    note: { type: 'string', value: '<text>', description: `why, 1–${NOTE_MAX_LENGTH} characters` },
    reference: { type: 'string', value: '<text>', description: `a ticket or incident, 1–${REFERENCE_MAX_LENGTH} characters` },
    id: { type: 'string', value: '<uuid>', description: 'the adjustmentId; a repeat with the same content writes nothing (default: a new one, printed)' },
  },
  positionals: { min: 1, max: 1 },
  async run(context) {
    const accountId = context.args.positionals[0]!;
    if (!isValidAccountId(accountId)) throw new UsageError(`"${accountId}" is not a valid account id`);
    const { args } = context;
    let amountUnits: bigint;
    try {
      amountUnits = parseAdjustmentAmount(required(stringFlag(args, 'amount'), 'amount'));
    } catch (error) {
      if (error instanceof MoneyError) throw new UsageError(`--amount: ${error.message}`);
      throw error;
    }
    const reason = required(stringFlag(args, 'reason'), 'reason');
    if (!(ADJUSTMENT_REASONS as readonly string[]).includes(reason)) throw new UsageError(`--reason must be one of ${ADJUSTMENT_REASONS.join(', ')}`);
    const note = required(stringFlag(args, 'note'), 'note');
    if (note.trim().length === 0 || note.length > NOTE_MAX_LENGTH) throw new UsageError(`--note must have 1–${NOTE_MAX_LENGTH} characters`);
    const reference = stringFlag(args, 'reference');
    if (reference !== undefined && (reference.length === 0 || reference.length > REFERENCE_MAX_LENGTH)) {
      throw new UsageError(`--reference must have 1–${REFERENCE_MAX_LENGTH} characters`);
    }
    const given = stringFlag(args, 'id')?.toLowerCase();
    if (given !== undefined && !UUID.test(given)) throw new UsageError(`--id must be a UUID, got "${given}"`);
    const adjustmentId = given ?? randomUUID();
    const config = context.config();
    const store = await openEventStore(config.eventStoreUrl, { codec: miningCodec });
    try {
      const adjuster = createAdjuster({ store, clock: systemClock, ids: uuidV7Generator(systemClock) });
      const result = await adjuster.adjust(accountId, {
        adjustmentId, amountUnits, reason: reason as AdjustmentReason, note, reference,
      }, { actor: operatorActor(context.env), correlationId: `cli-adjust-${adjustmentId}` });
      const balance = `${formatTokens(result.decision.balanceUnits)} (${result.decision.balanceUnits} units)`;
      switch (result.decision.error) {
        case 'ADJUSTMENT_CONFLICT':
          context.stderr.write(`mining-ledger adjust: ADJUSTMENT_CONFLICT: adjustment ${adjustmentId} already exists on ${accountId} with other content; nothing written\n`);
          return EXIT_USAGE;
        case 'INSUFFICIENT_BALANCE':
        case 'BALANCE_TOO_LARGE':
          context.stderr.write(`mining-ledger adjust: ${result.decision.error}: the balance of ${accountId} is ${balance}; nothing written\n`);
          return EXIT_USAGE;
        case 'INVALID_AMOUNT':
          throw new UsageError('--amount must be non-zero and within the largest amount');
        case undefined:
          break;
      }
      const what = result.decision.created ? 'recorded' : 'already present (nothing written)';
      context.stdout.write(
        `adjustment ${adjustmentId} ${what}\naccount: ${accountId}\namount: ${formatTokens(amountUnits)}\nreason: ${reason}\n` +
          `balance: ${balance}\nposition: ${result.position}\n`,
      );
      return EXIT_OK;
    } finally {
      await store.close();
    }
  },
};
