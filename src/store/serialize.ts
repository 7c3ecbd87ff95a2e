// Checks an append's events before any adapter sends them anywhere: one bad event must fail its own
// append with a clear error, never a whole group commit or a synchronous throw.
import { InvalidAppendError, type EventToAppend } from './port.js';

export interface SerializedEvent {
  id: string;
  type: string;
  data: string;
  metadata: string;
}

/** `what` names the value in an error; a function, so the text is built only on error. */
function toJson(value: unknown, what: () => string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new InvalidAppendError(`${what()} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (json === undefined) throw new InvalidAppendError(`${what()} is not JSON (${typeof value})`);
  return json;
}

/** Validates ids and types and serializes data and metadata; throws InvalidAppendError. */
export function serializeEvents(stream: string, events: EventToAppend[]): SerializedEvent[] {
  if (typeof stream !== 'string' || stream === '') throw new InvalidAppendError('stream name must be a non-empty string');
  const out = new Array<SerializedEvent>(events.length);
  // Most appends hold one event: no set of ids for those.
  const seen = events.length > 1 ? new Set<string>() : undefined;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    if (typeof event.id !== 'string' || event.id === '') throw new InvalidAppendError(`${stream} event ${i}: id must be a non-empty string`);
    if (seen) {
      if (seen.has(event.id)) throw new InvalidAppendError(`${stream} event ${i}: id ${event.id} appears twice in one append`);
      seen.add(event.id);
    }
    if (typeof event.type !== 'string' || event.type === '') throw new InvalidAppendError(`${stream} event ${i}: type must be a non-empty string`);
    out[i] = {
      id: event.id,
      type: event.type,
      data: toJson(event.data, () => `${stream} event ${i} (${event.type}) data`),
      metadata: toJson(event.metadata, () => `${stream} event ${i} (${event.type}) metadata`),
    };
  }
  return out;
}
