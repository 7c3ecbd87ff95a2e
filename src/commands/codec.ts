// Mapping between domain events and stored events: validation on write (encode) and on read (the
// mining codec that the event store is opened with: every read yields validated MiningRecords).
import { SCHEMA_VERSION, validateEvent, validateMetadata, type Actor, type EventMetadata, type MiningEvent } from '../domain/events.js';
import type { EventCodec, EventStore, EventToAppend, RecordedEvent } from '../store/port.js';
import { chainMetadata } from '../audit/chain.js';

export interface CommandContext {
  actor: Actor;
  correlationId: string;
}

/** Where an event will be written, and the hash of the event before it there (SPEC §12 hash chain). */
export interface ChainLink {
  stream: string;
  revision: bigint;
  prevHash: string | null;
}

/** Without `link` the event is written unchained, as before the chain existed (tests of old stores). */
export function encode(event: MiningEvent, id: string, recordedAt: string, context: CommandContext, link?: ChainLink): EventToAppend {
  let metadata: EventMetadata = {
    schemaVersion: SCHEMA_VERSION,
    recordedAt,
    correlationId: context.correlationId,
    actor: context.actor,
  };
  validateEvent(event.type, event.data, `event ${id}`);
  if (link) metadata = chainMetadata(link.stream, link.revision, event.type, event.data, metadata, link.prevHash);
  validateMetadata(metadata, `event ${id}`);
  const encoded: EventToAppend = { id, type: event.type, data: event.data, metadata };
  vouched.add(encoded);
  return encoded;
}

/** What `encode` returned: validated, so the codec may build the typed event from it as it is. */
const vouched = new WeakSet<EventToAppend>();

/** A stored mining event, validated: `event` is its type and data, `metadata` checked too. */
export interface MiningRecord extends RecordedEvent {
  readonly event: MiningEvent;
  readonly metadata: EventMetadata;
}

/** The event store as the application sees it: every read yields MiningRecords. */
export type MiningStore = EventStore<MiningRecord>;

/** Validates a stored event; an unknown type or a newer schema version is an error, never a misread. */
export function decode(recorded: RecordedEvent): MiningRecord {
  const where = () => `${recorded.stream}@${recorded.revision} (position ${recorded.position})`;
  const metadata = validateMetadata(recorded.metadata, where);
  const event = validateEvent(recorded.type, recorded.data, where);
  return {
    id: recorded.id, stream: recorded.stream, revision: recorded.revision, position: recorded.position,
    type: recorded.type, data: recorded.data, metadata, event,
  };
}

/** What the application opens the event store with (port.ts EventCodec). */
export const miningCodec: EventCodec<MiningRecord> = {
  decode,
  // This process's own commits: only what encode validated is taken as it is; anything else is decoded.
  appended(appended, stream, revision, position) {
    if (!vouched.has(appended)) return undefined;
    const { id, type, data } = appended;
    return { id, stream, revision, position, type, data, metadata: appended.metadata as EventMetadata, event: { type, data } as MiningEvent };
  },
};
