// The mapping between the port and @eventstore/db-client: positions are commit positions (bigint),
// revisions and expected revisions map one to one, the client's errors become the port's.
import {
  CancelledError, convertToCommandError, DeadlineExceededError, InvalidArgumentError, MaxAppendSizeExceededError, NotLeaderError, START,
  StreamNotFoundError, TimeoutError, UnavailableError, UnknownError, WrongExpectedVersionError,
  type AllStreamResolvedEvent, type AppendExpectedRevision, type EventData, type JSONType,
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

/** EventStoreDB's default MaxAppendSize: the server refuses a larger append as a whole. */
export const MAX_APPEND_BYTES = 1024 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Validated like the embedded store's appends, and for what only EventStoreDB refuses (an id that is
 * not a UUID, an append over 1 MiB), all as InvalidAppendError before anything is sent.
 * Metadata goes as JSON bytes: the client drops a falsy metadata value (`if (event.metadata)`), and
 * bytes it passes through untouched, so `null`, `0`, `false` and `""` come back as they went in.
 */
export function toEventData(stream: string, events: EventToAppend[]): EventData[] {
  const serialized = serializeEvents(stream, events);
  let bytes = 0;
  const data = serialized.map((event, i) => {
    if (!UUID.test(event.id)) throw new InvalidAppendError(`${stream} event ${i}: id ${JSON.stringify(event.id)} is not a UUID (EventStoreDB needs one)`);
    const metadata = new Uint8Array(Buffer.from(event.metadata, 'utf8'));
    bytes += Buffer.byteLength(event.data, 'utf8') + metadata.length;
    return { id: event.id, contentType: 'application/json' as const, type: event.type, data: events[i]!.data as JSONType, metadata };
  });
  if (bytes > MAX_APPEND_BYTES) {
    throw new InvalidAppendError(`${stream}: append of ${bytes} bytes is over EventStoreDB's ${MAX_APPEND_BYTES}-byte limit`);
  }
  return data;
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

/**
 * What the server says while it starts, elects a leader or sheds load. Batch appends report it as a
 * status the v6 client does not know, which it turns into UnknownError("Could not recognize …").
 */
const NOT_READY = /not ready|too busy|server is busy/i;

/**
 * Translates the client's errors (and raw gRPC ones it lets through) into the port's; anything
 * unknown passes unchanged. `closed`: the store was closed while the call was in flight, so the
 * client cancelled it; the caller may retry against a store that is open.
 */
export function toPortError(raw: unknown, stream?: string, expected?: ExpectedRevision, closed = false): unknown {
  const error = raw instanceof Error ? convertToCommandError(raw) : raw;
  if (error instanceof WrongExpectedVersionError && stream !== undefined && expected !== undefined) {
    return new WrongExpectedRevisionError(stream, expected, error.actualVersion);
  }
  if (error instanceof MaxAppendSizeExceededError) {
    return new InvalidAppendError(`EventStoreDB refused the append as too large (over ${error.maxAppendSize} bytes)`);
  }
  if (error instanceof InvalidArgumentError) return new InvalidAppendError(`EventStoreDB refused the append: ${error.message}`);
  if (closed) return new StoreUnavailableError('event store is closed');
  if (
    error instanceof UnavailableError || error instanceof DeadlineExceededError || error instanceof NotLeaderError ||
    // CANCELLED from the server: it is restarting (the client's own cancellations never get here).
    error instanceof CancelledError || error instanceof TimeoutError ||
    (error instanceof UnknownError && NOT_READY.test(error.message))
  ) {
    return new StoreUnavailableError(`EventStoreDB: ${error.message || error.constructor.name}`);
  }
  return raw;
}

/**
 * EventStoreDB answers a retry that matches only part of an earlier append ("corrupted idempotency")
 * with WrongExpectedVersion. When the event right after the expected revision is one of this
 * append's own, it is that case: a bug in the caller, not a race to retry.
 */
export function isPartialRetry(events: EventToAppend[], found: { id: string } | undefined): boolean {
  return found !== undefined && events.some((event) => event.id === found.id);
}

export const isStreamNotFound = (error: unknown) => error instanceof StreamNotFoundError;
