// ISO-8601 text of epoch milliseconds with the text up to the second remembered: a heartbeat formats
// its time, its record time and its session's times, mostly within the same few seconds. The cache is
// the shell's (one per owner), so the domain stays free of state; the text is exactly toIso's.
import { toIso } from '../domain/time.js';

export type IsoFormatter = (ms: number) => string;

export function isoFormatter(seconds = 4096): IsoFormatter {
  /** Second → "YYYY-MM-DDTHH:MM:SS." for the seconds recently formatted. */
  const prefixes = new Map<number, string>();
  return (ms) => {
    // Outside the integers Date can hold, toIso decides (and throws where it throws).
    if (!Number.isInteger(ms) || ms > 8.64e15 || ms < -8.64e15) return toIso(ms);
    const second = Math.floor(ms / 1000);
    let prefix = prefixes.get(second);
    if (prefix === undefined) {
      const full = toIso(second * 1000);
      prefix = full.slice(0, full.length - 4);
      if (prefixes.size >= seconds) prefixes.clear();
      prefixes.set(second, prefix);
    }
    const milli = ms - second * 1000;
    return prefix + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli + 'Z';
  };
}
