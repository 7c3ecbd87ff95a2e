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

/** "12h44m", "5m", "30s", "1.5s", "250ms": short durations for the auditor's ledger. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) {
    const seconds = ms / 1000;
    return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(3).replace(/0+$/, '')}s`;
  }
  const totalSeconds = Math.floor(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  let text = '';
  if (hours) text += `${hours}h`;
  if (minutes) text += `${minutes}m`;
  if (seconds) text += `${seconds}s`;
  return text;
}
