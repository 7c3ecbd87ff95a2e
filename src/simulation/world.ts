// The simulated system: the real store, command handler, projector and sweeper on a virtual clock.
// `crash()` drops every piece of in-memory state and recovers from the store, as a restart would.
import { join } from 'node:path';
import { createCommandHandler, type CommandHandler, type MiningSettings } from '../commands/handler.js';
import { uuidV7Generator, type VirtualClock } from '../commands/clock.js';
import { startProjector, type Projector } from '../projections/projector/projector.js';
import { openEventStore } from '../store/open.js';
import { miningCodec, type MiningStore } from '../commands/codec.js';
import { startSweeper, type Sweeper } from '../sweeper/sweeper.js';

export interface World {
  readModelPath: string;
  store: MiningStore;
  handler: CommandHandler;
  projector: Projector;
  sweeper: Sweeper;
  crash(): Promise<void>;
  close(): Promise<void>;
}

export interface WorldOptions {
  dir: string;
  clock: VirtualClock;
  settings: MiningSettings;
  /** Another store to simulate against (it must be empty); default: an embedded store in `dir`. */
  eventStoreUrl?: string;
}

export async function openWorld(options: WorldOptions): Promise<World> {
  const { dir, clock, settings } = options;
  const world = { readModelPath: join(dir, 'read.db') } as World;

  async function boot(): Promise<void> {
    world.store = options.eventStoreUrl ? await openEventStore(options.eventStoreUrl, { codec: miningCodec }) : await openEventStore(`sqlite:${join(dir, 'events.db')}`, { codec: miningCodec });
    world.handler = createCommandHandler({
      store: world.store, clock, ids: uuidV7Generator(clock), settings: () => settings, backoff: async () => undefined,
    });
    world.projector = await startProjector({ store: world.store, readModelPath: world.readModelPath });
    // intervalMs 0: the simulation decides when the sweeper runs (and when it is down).
    world.sweeper = await startSweeper({
      store: world.store, handler: world.handler, clock, intervalMs: 0, graceMs: settings.sweepGraceMs, sweeperId: 'simulation',
    });
    await world.sweeper.caughtUp;
  }

  async function shutdown(): Promise<void> {
    await world.sweeper.stop();
    await world.projector.stop();
    await world.store.close();
  }

  await boot();
  world.crash = async () => {
    await shutdown();
    await boot();
  };
  world.close = shutdown;
  return world;
}
