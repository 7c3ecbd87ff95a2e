// The one place where the PostgreSQL store turns rows into the port's events and back: data and
// metadata are stored as the exact JSON text the serializer produced (text, not jsonb, which would
// reorder keys), positions and revisions travel as int8 strings and become bigints here.
import type { Position, RecordedEvent } from '../port.js';
import type { SerializedEvent } from '../serialize.js';

/** The columns every read selects, in this order. */
export const EVENT_COLUMNS = 'position, id, stream, revision, type, data, metadata';

export interface EventRow {
  position: string;
  id: string;
  stream: string;
  revision: string;
  type: string;
  data: string;
  metadata: string;
}

export function decodeEvent(row: EventRow): RecordedEvent {
  return {
    id: row.id,
    stream: row.stream,
    revision: BigInt(row.revision),
    position: BigInt(row.position),
    type: row.type,
    data: JSON.parse(row.data) as unknown,
    metadata: JSON.parse(row.metadata) as unknown,
  };
}

export const decodeEvents = (rows: EventRow[]): RecordedEvent[] => rows.map(decodeEvent);

/** Parameters of one multi-row INSERT … SELECT FROM unnest(…): one array per column. */
export interface InsertColumns {
  id: string[];
  stream: string[];
  revision: string[];
  type: string[];
  data: string[];
  metadata: string[];
}

export const emptyColumns = (): InsertColumns => ({ id: [], stream: [], revision: [], type: [], data: [], metadata: [] });

export function addRow(columns: InsertColumns, stream: string, revision: bigint, event: SerializedEvent): void {
  columns.id.push(event.id);
  columns.stream.push(stream);
  columns.revision.push(revision.toString());
  columns.type.push(event.type);
  columns.data.push(event.data);
  columns.metadata.push(event.metadata);
}

export const toPosition = (value: string | null | undefined): Position | undefined => (value == null ? undefined : BigInt(value));
