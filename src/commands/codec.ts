// Mapping between domain events and stored events: validation on write and on read.
import { SCHEMA_VERSION, validateEvent, validateMetadata, type Actor, type EventMetadata, type MiningEvent } from '../domain/events.js';
import type { EventToAppend, RecordedEvent } from '../store/port.js';
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
  return { id, type: event.type, data: event.data, metadata };
}

export interface DecodedEvent {
  event: MiningEvent;
  metadata: EventMetadata;
  recorded: RecordedEvent;
}

/** Validates a stored event; an unknown type or a newer schema version is an error, never a misread. */
export function decode(recorded: RecordedEvent): DecodedEvent {
  const where = () => `${recorded.stream}@${recorded.revision} (position ${recorded.position})`;
  const metadata = validateMetadata(recorded.metadata, where);
  const event = validateEvent(recorded.type, recorded.data, where);
  return { event, metadata, recorded };
}
