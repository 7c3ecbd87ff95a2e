// Progress of a long row-by-row command (import): a bar redrawn in place on a terminal, a plain line
// every few seconds otherwise (logs, CI, pipes).
import type { Writable } from 'node:stream';
import { formatEta } from './progress.js';

export interface RowProgress {
  update(done: number, total: number, elapsedMs: number): void;
  done(): void;
}

const count = (n: number) => n.toLocaleString('en-US');

export function rowProgress(stream: Writable & { isTTY?: boolean }, label: string, options: { lineIntervalMs?: number } = {}): RowProgress {
  const lineIntervalMs = options.lineIntervalMs ?? 2000;
  let lastLine = -Infinity;
  let drawn = false;
  return {
    update(done, total, elapsedMs) {
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      const rate = elapsedMs > 0 ? Math.round((done / elapsedMs) * 1000) : 0;
      const eta = fraction >= 1 ? '0s' : formatEta(rate > 0 ? ((total - done) / rate) * 1000 : Infinity);
      if (stream.isTTY) {
        const width = 30;
        const filled = Math.round(fraction * width);
        stream.write(`\r\x1b[2K${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}%  ` +
          `${count(done)}/${count(total)} rows  ${count(rate)} rows/s  ETA ${eta}`);
        drawn = true;
        return;
      }
      if (elapsedMs - lastLine < lineIntervalMs && fraction < 1) return;
      lastLine = elapsedMs;
      stream.write(`${label}: ${done}/${total} rows (${(fraction * 100).toFixed(1)}%), ${rate} rows/s, ETA ${eta}\n`);
    },
    done() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
