// Rebuild progress for people: a bar redrawn in place on a terminal, plain periodic lines otherwise
// (logs, CI, pipes).
import type { Writable } from 'node:stream';
import type { RebuildProgress } from '../projections/projector/rebuild.js';

export interface ProgressReporter {
  update(progress: RebuildProgress): void;
  /** Ends the bar's line (terminal) so what follows starts on its own. */
  done(): void;
}

const count = (n: number) => n.toLocaleString('en-US');

export function formatEta(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

export function describeProgress(p: RebuildProgress): { fraction: number; rate: number; eta: string } {
  const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
  const rate = p.elapsedMs > 0 ? Math.round((p.events / p.elapsedMs) * 1000) : 0;
  const eta = fraction >= 1 ? '0s' : formatEta(rate > 0 ? ((p.total - p.done) / rate) * 1000 : Infinity);
  return { fraction, rate, eta };
}

export function progressReporter(stream: Writable & { isTTY?: boolean }, options: { lineIntervalMs?: number } = {}): ProgressReporter {
  const lineIntervalMs = options.lineIntervalMs ?? 2000;
  let lastLine = -Infinity;
  let lastPhase: string | undefined;
  let drawn = false;
  return {
    update(p) {
      const { fraction, rate, eta } = describeProgress(p);
      const numbers = `${count(p.done)}/${count(p.total)} events  ${count(rate)} ev/s  ETA ${eta}`;
      if (stream.isTTY) {
        const width = 30;
        const filled = Math.round(fraction * width);
        const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
        stream.write(`\r\x1b[2K${p.phase.padEnd(8)} [${bar}] ${(fraction * 100).toFixed(1).padStart(5)}%  ${numbers}`);
        drawn = true;
        return;
      }
      if (p.phase === lastPhase && p.elapsedMs - lastLine < lineIntervalMs && fraction < 1) return;
      lastPhase = p.phase;
      lastLine = p.elapsedMs;
      stream.write(`rebuild ${p.phase}: ${p.done}/${p.total} events (${(fraction * 100).toFixed(1)}%), ${rate} events/s, ETA ${eta}\n`);
    },
    done() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
