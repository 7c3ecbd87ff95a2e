// The auditor's ledger as a table for people (`replay` without --json, `simulate`'s mismatch report),
// written as it is replayed through the same buffered output as the JSON printer.
import { describeChain } from '../audit/chain.js';
import { formatTokens } from '../domain/money.js';
import { sessionEarnedUnits, type SessionAccrual, type Interval } from '../domain/session.js';
import { formatDuration, toIso } from '../domain/time.js';
import { whyWriter } from '../projections/ledger/interval-why.js';
import { isoFormatter, lastOf, type BufferedOutput, type LedgerPrinter } from '../projections/ledger/ledger-format.js';
import type { LedgerAdjustment } from '../projections/ledger/ledger.js';

const units = (value: bigint) => `${formatTokens(value)} (${value} units)`;
const signed = (value: bigint) => `${value > 0n ? '+' : ''}${units(value)}`;

function adjustmentLines(a: LedgerAdjustment): string {
  const actor = a.actor === null ? 'unknown' : `${a.actor.kind} ${a.actor.id}`;
  const reference = a.reference === null ? '' : `  reference ${JSON.stringify(a.reference)}`;
  return `\nAdjustment  ${a.adjustmentId}\n  at ${toIso(a.at)}  ${signed(a.amountUnits)}  ${a.reason}  by ${actor}${reference}\n` +
    `  note ${JSON.stringify(a.note)}\n`;
}

export function tablePrinter(out: BufferedOutput, accountId: string): LedgerPrinter {
  const iso = isoFormatter();
  const length = lastOf((ms: number) => formatDuration(ms).padStart(10));
  const credited = lastOf((ms: number) => (ms > 0 ? formatDuration(ms) : '-').padStart(10));
  const whyOf = whyWriter();
  let count = 0;
  return {
    adjustment(adjustment: LedgerAdjustment) {
      out.write(adjustmentLines(adjustment));
    },
    sessionStarted(session: SessionAccrual) {
      count++;
      const max = session.maxSessionMs > 0 ? formatDuration(session.maxSessionMs) : 'unlimited';
      out.write(`\nSession ${count}  ${session.sessionId}\n`);
      out.write(`  started ${toIso(session.startedAt)}  rate ${formatTokens(session.rateUnitsPerHour)}/h  ` +
        `timeout ${formatDuration(session.heartbeatTimeoutMs)}  max ${max}\n`);
      out.write(`  ${'from'.padEnd(24)}  ${'to'.padEnd(24)}  ${'length'.padStart(10)}  ${'credited'.padStart(10)}  why\n`);
    },
    interval(interval: Interval, toText?: string) {
      const from = iso.format(interval.from);
      out.write(`  ${from}  ${iso.format(interval.to, toText)}  ${length(interval.ms)}  ${credited(interval.creditedMs)}  ${whyOf(interval)}\n`);
    },
    sessionEnded(session: SessionAccrual) {
      const end = session.stoppedAt === null ? 'still open' : `stopped ${toIso(session.stoppedAt)} (${session.reason})`;
      out.write(`  ${end}; ${session.heartbeats} heartbeats; credited ${formatDuration(session.creditedMs)}; ` +
        `earned ${units(sessionEarnedUnits(session))}\n`);
    },
    drain: () => out.drain(),
    async finish(totals, projected, differences, asOf) {
      if (asOf) out.write(`\nAs of ${asOf.at}: events up to position ${asOf.position}; not compared with the projection, which holds the present\n`);
      if (totals.events === 0) out.write(`\nAccount ${accountId} has no events.\n`);
      out.write(`\nAccount ${accountId}: ${totals.events} events, stream revision ${totals.streamRevision ?? 'none'}, ` +
        `${totals.sessions} session${totals.sessions === 1 ? '' : 's'}, credited ${formatDuration(totals.creditedMs)}\n`);
      if (totals.adjustments > 0) {
        out.write(`  adjusted           ${signed(totals.adjustedUnits)} in ${totals.adjustments} adjustment${totals.adjustments === 1 ? '' : 's'}\n`);
      }
      out.write(`  replayed balance   ${units(totals.balanceUnits)}\n`);
      out.write(`  projected balance  ${units(projected?.balanceUnits ?? 0n)}\n`);
      if (differences.length === 0) out.write('  replay and projection match\n');
      else for (const difference of differences) out.write(`  MISMATCH ${difference}\n`);
      out.write(`  hash chain ${describeChain(totals.chain)}\n`);
      await out.flush();
    },
  };
}

