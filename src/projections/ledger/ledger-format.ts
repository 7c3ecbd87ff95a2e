// Printing the auditor's ledger as it is replayed, as JSON for machines (the CLI's table for people is
// src/cli/ledger-table.ts). Output is buffered and written with back-pressure, so a million intervals
// print in flat memory.
import type { Writable } from 'node:stream';
import { chainJson } from '../../audit/chain.js';
import { formatTokens } from '../../domain/money.js';
import { sessionEarnedUnits, type Interval, type SessionAccrual } from '../../domain/session.js';
import { whyWriter } from './interval-why.js';
import { toIso } from '../../domain/time.js';
import { adjustmentJson, type AdjustmentJson } from './audit.js';
import type { LedgerAdjustment, ReplayTotals, LedgerSink } from './ledger.js';
import type { AccountView } from '../read-model/read-model.js';

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
export function isoFormatter(): { format(ms: number, known?: string): string } {
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
export function lastOf<T, R>(compute: (value: T) => R): (value: T) => R {
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
