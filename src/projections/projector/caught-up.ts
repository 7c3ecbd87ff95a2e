// For one-shot commands (replay, verify): open the store, let the projection catch up with it in
// this process, run, and close everything again. Safe beside a running projector on the same file:
// a checkpoint moved by the other one is noticed and followed, never applied twice.
import { describeError, StartupError } from '../../config/files.js';
import type { Logger } from '../../config/logger.js';
import { openEventStore } from '../../store/open.js';
import { miningCodec, type MiningStore } from '../../commands/codec.js';
import { startProjector } from './projector.js';
import { ReadModelUnavailableError, type ReadModel } from '../read-model/read-model.js';

export interface CaughtUp {
  store: MiningStore;
  readModel: ReadModel;
}

export async function withCaughtUpProjection<T>(
  options: { eventStoreUrl: string; readModelPath: string; logger?: Logger },
  run: (context: CaughtUp) => Promise<T>,
): Promise<T> {
  const store = await withDeadline(openEventStore(options.eventStoreUrl, { codec: miningCodec, readOnly: true }), options.eventStoreUrl);
  try {
    // An unreachable server (EventStoreDB) would otherwise leave replay/verify silent for good.
    await withDeadline(store.headPosition(), options.eventStoreUrl).catch(async (error: unknown) => {
      await store.close().catch(() => undefined);
      throw error;
    });
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

/** How long replay and verify wait for the store to answer at start (SPEC §15: exit 2 within 30 s). */
export const STORE_DEADLINE_MS = 10_000;

async function withDeadline<T>(work: Promise<T>, url: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StartupError(`event store ${url.replace(/\/\/[^@/]*@/, '//')} did not answer within ${STORE_DEADLINE_MS / 1000} s`)), STORE_DEADLINE_MS);
  });
  try {
    return await Promise.race([work.catch((error: unknown) => {
      throw error instanceof StartupError ? error : new StartupError(`event store unreachable: ${describeError(error)}`);
    }), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
