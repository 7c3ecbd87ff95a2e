// The mapping between the port and @eventstore/db-client: positions are commit positions (bigint),
// revisions and expected revisions map one to one, the client's errors become the port's.
import {
  convertToCommandError, DeadlineExceededError, NotLeaderError, START, StreamNotFoundError, UnavailableError, WrongExpectedVersionError,
  type AllStreamResolvedEvent, type AppendExpectedRevision, type EventData, type JSONType, type MetadataType,
  type ReadPosition, type ResolvedEvent,
} from '@eventstore/db-client';
import {
  InvalidAppendError, StoreUnavailableError, WrongExpectedRevisionError,
  type EventToAppend, type ExpectedRevision, type FromPosition, type Position, type RecordedEvent,
} from '../port.js';
import { serializeEvents } from '../serialize.js';

/** The port's expected revisions are the client's own constants ('no_stream', 'any', 'stream_exists') or a bigint. */
export const toExpectedRevision = (expected: ExpectedRevision): AppendExpectedRevision => expected;

/**
 * Since EventStoreDB 20 every appended event is its own committed record, so its commit and prepare
 * positions are equal and the commit position alone identifies it.
 */
export function toReadPosition(from: FromPosition): ReadPosition {
  return from === 'start' ? START : { commit: from, prepare: from };
}

/** Validated like the embedded store's appends (InvalidAppendError), then handed over as JSON events. */
export function toEventData(stream: string, events: EventToAppend[]): EventData[] {
  serializeEvents(stream, events);
  return events.map((event) => ({
    id: event.id,
    contentType: 'application/json',
    type: event.type,
    data: event.data as JSONType,
    metadata: event.metadata as MetadataType,
  }));
}

/** Streams whose names start with '$' are the server's own; the port never shows them. */
export const isSystemStream = (stream: string) => stream.startsWith('$');

export function positionOf(resolved: ResolvedEvent | AllStreamResolvedEvent): Position | undefined {
  return resolved.event?.position?.commit ?? resolved.commitPosition;
}

/** A resolved event as the port's RecordedEvent, or undefined for what the port does not show. */
export function toRecorded(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | undefined {
  const event = resolved.event;
  if (!event || isSystemStream(event.streamId)) return undefined;
  return {
    id: event.id,
    stream: event.streamId,
    revision: event.revision,
    position: positionOf(resolved) ?? 0n,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
  };
}

/** Translates the client's errors (and raw gRPC ones it lets through); anything unknown passes unchanged. */
export function toPortError(raw: unknown, stream?: string, expected?: ExpectedRevision): unknown {
  const error = raw instanceof Error ? convertToCommandError(raw) : raw;
  if (error instanceof WrongExpectedVersionError && stream !== undefined && expected !== undefined) {
    return new WrongExpectedRevisionError(stream, expected, error.actualVersion);
  }
  if (error instanceof UnavailableError || error instanceof DeadlineExceededError || error instanceof NotLeaderError) {
    return new StoreUnavailableError(`EventStoreDB: ${error.message}`);
  }
  return raw;
}

export const isStreamNotFound = (error: unknown) => error instanceof StreamNotFoundError;
