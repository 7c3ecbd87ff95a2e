// `simulate`: many miners on a virtual clock against the real handler, store, projector and sweeper;
// every balance is checked against independently computed truth. Exit 1 on any mismatch.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { miningSettingsOf } from '../config/config.js';
import { runSimulation } from '../simulation/run.js';
import { openEventStore } from '../store/open.js';
import { miningCodec } from '../commands/codec.js';
import { integerFlag, numberFlag, stringFlag, UsageError } from './args.js';
import { EXIT_MISMATCH, EXIT_OK, type CliCommand } from './command.js';

export const command: CliCommand = {
  name: 'simulate',
  summary: 'drives simulated miners (online, offline, crashing) on a virtual clock and checks every balance against independently computed truth',
  usage: 'simulate --miners N --hours H --seed S [--sweeper-outage F] [--crash-every K] [--devices D] [--dir PATH]',
  flags: {
    miners: { type: 'string', value: '<N>', description: 'number of simulated accounts (1–1000000)' },
    hours: { type: 'string', value: '<H>', description: 'virtual hours to simulate (up to 8760)' },
    seed: { type: 'string', value: '<S>', description: 'random seed; the same seed replays the same run' },
    'sweeper-outage': { type: 'string', value: '<F>', description: 'fraction of virtual time the sweeper is down, 0–1 (default 0)' },
    'crash-every': { type: 'string', value: '<K>', description: 'drop all in-memory state every K virtual minutes (default 0 = never)' },
    devices: { type: 'string', value: '<D>', description: 'up to D devices per miner at once (default 1)' },
    dir: { type: 'string', value: '<path>', description: 'keep the simulated store here (default: a temporary directory, removed)' },
  },
  async run(context) {
    const { args } = context;
    for (const required of ['miners', 'hours', 'seed']) {
      if (stringFlag(args, required) === undefined) throw new UsageError(`--${required} is required`);
    }
    const miners = integerFlag(args, 'miners', undefined, 1, 1_000_000)!;
    const hours = numberFlag(args, 'hours', 1, 0.01, 8760);
    const seed = integerFlag(args, 'seed', undefined, 0, 2 ** 32 - 1)!;
    const sweeperOutage = numberFlag(args, 'sweeper-outage', 0, 0, 1);
    const crashEveryMinutes = integerFlag(args, 'crash-every', 0, 0, 525_600)!;
    const devices = integerFlag(args, 'devices', 1, 1, 16)!;
    const config = context.config();
    const kept = stringFlag(args, 'dir');
    const dir = kept ? resolve(kept) : mkdtempSync(join(tmpdir(), 'mining-sim-'));
    const out = context.stdout;
    // Only a store named on the command line, never one from the environment (that may be production).
    const flagged = args.config.EVENT_STORE_URL;
    const eventStoreUrl = flagged && !flagged.startsWith('sqlite:') ? flagged : undefined;
    if (eventStoreUrl) await refuseNonEmpty(eventStoreUrl);
    try {
      const report = await runSimulation({
        eventStoreUrl, dir, miners, hours, seed, sweeperOutage, crashEveryMinutes, devices,
        settings: miningSettingsOf(config), sweepIntervalMs: config.sweepIntervalMs, ledgerOut: out,
        onProgress: (done, total) => {
          if (done > 0) context.stderr.write(`simulate: ${Math.round((100 * done) / total)}% of virtual time\n`);
        },
      });
      for (const mismatch of report.mismatches.slice(0, 10)) out.write(`MISMATCH ${mismatch.account}: ${mismatch.what}\n`);
      const rate = report.realSeconds > 0 ? Number(report.events) / report.realSeconds : 0;
      out.write([
        `seed: ${seed}`,
        `miners: ${report.miners}`,
        `devices: ${report.devices}`,
        `virtual hours: ${report.virtualHours}`,
        `events: ${report.events}`,
        `sessions: ${report.sessions}`,
        `stops: user ${report.stops.user}, timeout ${report.stops.timeout}, max_duration ${report.stops.max_duration}`,
        `sweeps: ${report.sweeps}`,
        `crashes: ${report.crashes}`,
        `real seconds: ${report.realSeconds.toFixed(1)}`,
        `events/s (real time): ${Math.round(rate)}`,
        `mismatches: ${report.mismatches.length}`,
      ].join('\n') + '\n');
      return report.mismatches.length > 0 ? EXIT_MISMATCH : EXIT_OK;
    } finally {
      if (!kept) rmSync(dir, { recursive: true, force: true });
    }
  },
};

/** The oracle knows only what the simulation wrote: a store that already holds events cannot be checked. */
async function refuseNonEmpty(url: string): Promise<void> {
  const store = await openEventStore(url, { codec: miningCodec });
  try {
    if ((await store.headPosition()) !== 'start') {
      throw new UsageError('--event-store-url: simulate needs an empty store (for PostgreSQL, name a new ?schema=)');
    }
  } finally {
    await store.close();
  }
}
