// For one-shot commands (replay, verify): open the store, let the projection catch up with it in
// this process, run, and close everything again. Safe beside a running projector on the same file:
// a checkpoint moved by the other one is noticed and followed, never applied twice.
import type { Logger } from '../config/logger.js';
import { openEventStore } from '../store/open.js';
import type { EventStore } from '../store/port.js';
import { startProjector } from './projector.js';
import { ReadModelUnavailableError, type ReadModel } from './read-model.js';

export interface CaughtUp {
  store: EventStore;
  readModel: ReadModel;
}

export async function withCaughtUpProjection<T>(
  options: { eventStoreUrl: string; readModelPath: string; logger?: Logger },
  run: (context: CaughtUp) => Promise<T>,
): Promise<T> {
  const store = await openEventStore(options.eventStoreUrl, { readOnly: true });
  try {
    const projector = await startProjector({ store, readModelPath: options.readModelPath, logger: options.logger });
    try {
      const problem = projector.problem();
      if (problem !== null) throw new ReadModelUnavailableError(problem);
      await projector.caughtUp;
      return await run({ store, readModel: projector.readModel });
    } finally {
      await projector.stop();
    }
  } finally {
    await store.close();
  }
}
