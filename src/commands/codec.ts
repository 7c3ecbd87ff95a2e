// Mapping between domain events and stored events: validation on write and on read.
import { SCHEMA_VERSION, validateEvent, validateMetadata, type Actor, type EventMetadata, type MiningEvent } from '../domain/events.js';
import type { EventToAppend, RecordedEvent } from '../store/port.js';

export interface CommandContext {
  actor: Actor;
  correlationId: string;
}

export function encode(event: MiningEvent, id: string, recordedAt: string, context: CommandContext): EventToAppend {
  const metadata: EventMetadata = {
    schemaVersion: SCHEMA_VERSION,
    recordedAt,
    correlationId: context.correlationId,
    actor: context.actor,
  };
  validateEvent(event.type, event.data, `event ${id}`);
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
