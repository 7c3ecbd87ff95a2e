// Printing the auditor's ledger as it is replayed: a table for people, JSON for machines. Output is
// buffered and written with back-pressure, so a million intervals print in flat memory.
import type { Writable } from 'node:stream';
import { chainJson, describeChain } from '../audit/chain.js';
import { formatTokens } from '../domain/money.js';
import { sessionEarnedUnits, type Interval, type SessionAccrual } from '../domain/session.js';
import { whyWriter } from './interval-why.js';
import { formatDuration, toIso } from '../domain/time.js';
import { adjustmentJson, type AdjustmentJson } from './audit.js';
import type { LedgerAdjustment, ReplayTotals, LedgerSink } from './ledger.js';
import type { AccountView } from './read-model.js';

export class BufferedOutput {
  private chunks: string[] = [];
  private size = 0;
  constructor(private readonly stream: Writable) {}

  write(text: string): void {
    this.chunks.push(text);
    this.size += text.length;
  }

  async drain(): Promise<void> {
    if (this.size < 65_536) return;
    await this.flush();
  }

  async flush(): Promise<void> {
    if (this.chunks.length === 0) return;
    const text = this.chunks.join('');
    this.chunks = [];
    this.size = 0;
    if (this.stream.destroyed) return;
    // A destroyed stream never drains: its 'close' ends the wait too.
    if (!this.stream.write(text)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.stream.off('drain', done).off('close', done);
          resolve();
        };
        this.stream.once('drain', done).once('close', done);
      });
    }
  }
}

/** Formats instants, remembering the last one: consecutive intervals share their ends. */
function isoFormatter(): { format(ms: number, known?: string): string } {
  let lastMs = NaN;
  let lastText = '';
  return {
    format(ms, known) {
      if (ms !== lastMs) {
        lastMs = ms;
        lastText = known ?? toIso(ms);
      }
      return lastText;
    },
  };
}

/** A one-argument function that remembers its last answer: intervals in a row share their texts. */
function lastOf<T, R>(compute: (value: T) => R): (value: T) => R {
  let known = false;
  let lastValue: T;
  let lastResult: R;
  return (value) => {
    if (!known || value !== lastValue) {
      known = true;
      lastValue = value;
      lastResult = compute(value);
    }
    return lastResult;
  };
}

export interface LedgerPrinter extends LedgerSink {
  /** `asOf`: the ledger stops at a point in the past (time travel) and was not compared. */
  finish(totals: ReplayTotals, projected: AccountView | null, differences: string[], asOf?: { at: string; position: bigint }): Promise<void>;
}

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

/** The SPEC §4 ledger as one JSON document, written as it is replayed (key order aside, as auditAccount). */
export function jsonPrinter(out: BufferedOutput, accountId: string): LedgerPrinter {
  const iso = isoFormatter();
  const whyOf = whyWriter();
  const why = lastOf((text: string) => JSON.stringify(text));
  let sessions = 0;
  let intervals = 0;
  let stopRecordedAt: string | null = null;
  // Adjustments are few (an operator's acts): kept and written after the sessions.
  const adjustments: AdjustmentJson[] = [];
  out.write(`{"accountId":${JSON.stringify(accountId)},"sessions":[`);
  return {
    stopRecorded(_sessionId: string, recordedAt: string) {
      stopRecordedAt = recordedAt;
    },
    adjustment(adjustment: LedgerAdjustment) {
      adjustments.push(adjustmentJson(adjustment));
    },
    sessionStarted(session: SessionAccrual) {
      out.write(`${sessions++ ? ',' : ''}{"sessionId":${JSON.stringify(session.sessionId)},"startedAt":"${toIso(session.startedAt)}",` +
        `"ratePerHour":"${formatTokens(session.rateUnitsPerHour)}","heartbeatTimeoutMs":${session.heartbeatTimeoutMs},` +
        `"maxSessionMs":${session.maxSessionMs},"intervals":[`);
      intervals = 0;
    },
    interval(interval: Interval, toText?: string) {
      const from = iso.format(interval.from);
      out.write(`${intervals++ ? ',' : ''}{"from":"${from}","to":"${iso.format(interval.to, toText)}","ms":${interval.ms},` +
        `"credited":${interval.credited},"creditedMs":${interval.creditedMs},"why":${why(whyOf(interval))}}`);
    },
    sessionEnded(session: SessionAccrual) {
      const stoppedAt = session.stoppedAt === null ? 'null' : `"${toIso(session.stoppedAt)}"`;
      out.write(`],"stoppedAt":${stoppedAt},"reason":${JSON.stringify(session.reason)},"heartbeats":${session.heartbeats},` +
        `"creditedMs":${session.creditedMs},"earnedUnits":"${sessionEarnedUnits(session)}",` +
        `"stopRecordedAt":${session.stoppedAt === null || stopRecordedAt === null ? 'null' : JSON.stringify(stopRecordedAt)}}`);
      stopRecordedAt = null;
    },
    drain: () => out.drain(),
    async finish(totals, projected, differences, asOf) {
      const asOfJson = asOf ? `,"asOf":${JSON.stringify({ at: asOf.at, position: asOf.position.toString(), compared: false })}` : '';
      const revision = totals.streamRevision === null ? 'null' : `"${totals.streamRevision}"`;
      out.write(`],"adjustments":${JSON.stringify(adjustments)},"adjustedUnits":"${totals.adjustedUnits}","streamRevision":${revision},"events":${totals.events},"creditedMs":${totals.creditedMs},` +
        `"replayedBalanceUnits":"${totals.balanceUnits}","projectedBalanceUnits":"${projected?.balanceUnits ?? 0n}",` +
        `"projectedPosition":"${projected?.position ?? 0n}","matches":${differences.length === 0},` +
        `"differences":${JSON.stringify(differences)},"chain":${JSON.stringify(chainJson(totals.chain))}${asOfJson}}\n`);
      await out.flush();
    },
  };
}
