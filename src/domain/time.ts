// Timestamps inside the domain are epoch milliseconds; on the wire and in events, ISO-8601 UTC with ms.

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Parses a strict ISO-8601 UTC timestamp with milliseconds; undefined when it is not one. */
export function parseIso(text: string): number | undefined {
  if (!ISO_MS.test(text)) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms) || toIso(ms) !== text) return undefined;
  return ms;
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
