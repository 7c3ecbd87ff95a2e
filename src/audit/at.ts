// Time travel (SPEC §12): `--at` / `?at=` names a point in the store's history, a global position
// or an ISO-8601 time. A ledger "at" it replays only the events at or before that point.
import { streamOf } from '../domain/events.js';
import type { EventStore } from '../store/port.js';

export type AtPoint = { kind: 'position'; position: bigint; text: string } | { kind: 'time'; ms: number; text: string };

const POSITION = /^(0|[1-9][0-9]{0,18})$/;
// A calendar date and time with an explicit zone; seconds and fractions optional.
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** The point named by `text`, or undefined when it is neither a position nor an ISO time. */
export function parseAt(text: string): AtPoint | undefined {
  if (POSITION.test(text)) return { kind: 'position', position: BigInt(text), text };
  if (!ISO.test(text)) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) return undefined;
  // Date.parse rolls 2026-02-31 over to March: a date that does not exist is refused instead.
  const [, year, month, day] = /^(\d{4})-(\d{2})-(\d{2})/.exec(text)!;
  const calendar = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (calendar.getUTCMonth() !== Number(month) - 1 || calendar.getUTCDate() !== Number(day)) return undefined;
  return { kind: 'time', ms, text };
}

export const AT_DESCRIPTION = 'a global position (decimal integer) or an ISO-8601 time with a zone, e.g. 2026-03-01T09:00:00Z';

/**
 * The last position of the account's history at `at`: the position itself, or for a time the last
 * event of the stream recorded at or before it (recordedAt never goes back within a stream: the
 * handler serializes its writes). 0n when nothing had been recorded yet.
 */
export async function positionAt(store: EventStore, accountId: string, at: AtPoint): Promise<bigint> {
  if (at.kind === 'position') return at.position;
  let last = 0n;
  for await (const recorded of store.readStream(streamOf(accountId))) {
    const recordedAt = Date.parse((recorded.metadata as { recordedAt?: string } | null)?.recordedAt ?? '');
    if (!(recordedAt <= at.ms)) break;
    last = recorded.position;
  }
  return last;
}
