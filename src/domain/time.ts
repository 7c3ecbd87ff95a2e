// Timestamps inside the domain are epoch milliseconds; on the wire and in events, ISO-8601 UTC with ms.

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Parses a strict ISO-8601 UTC timestamp with milliseconds; undefined when it is not one. */
export function parseIso(text: string): number | undefined {
  // Read digit by digit: every event is parsed on every fold, so this sits on the hot path.
  if (typeof text !== 'string' || text.length !== 24) return undefined;
  if (text[4] !== '-' || text[7] !== '-' || text[10] !== 'T' || text[13] !== ':' || text[16] !== ':' || text[19] !== '.' || text[23] !== 'Z') {
    return undefined;
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  const milli = digits(text, 20, 3);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || milli < 0) {
    return undefined;
  }
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > DAYS_IN_MONTH[month - 1]! + (leap ? 1 : 0)) return undefined;
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second, milli);
  // Date.UTC reads years 0–99 as 1900–1999; "0042-…" means the year 42.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, milli);
  return date.getTime();
}

/** The decimal number in text[from, from + count), or -1 when a character is not a digit. */
function digits(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const code = text.charCodeAt(i) - 48;
    if (code < 0 || code > 9) return -1;
    value = value * 10 + code;
  }
  return value;
}

function seconds(ms: number): string {
  const value = ms / 1000;
  return `${Number.isInteger(value) ? value : value.toFixed(3).replace(/0+$/, '')}s`;
}

/** "12h44m", "5m", "30s", "1.5s", "5m0.001s", "250ms": short durations for the auditor's ledger. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  // Keep the milliseconds: a gap of T + 1 ms must not read as "5m > timeout 5m".
  const rest = ms % 60_000;
  let text = '';
  if (hours) text += `${hours}h`;
  if (minutes) text += `${minutes}m`;
  if (rest) text += seconds(rest);
  return text;
}
