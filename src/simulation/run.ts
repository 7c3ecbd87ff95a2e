// The simulation loop: virtual time advances in steps; every device due in a step acts at once (so
// commits group as they would under load); the sweeper runs on its cadence except during outages;
// at the end every account is checked against the oracle's truth.
import { virtualClock } from '../commands/clock.js';
import type { CommandResult, MiningSettings } from '../commands/handler.js';
import { act, createDevices, react, type Action, type Device, type Outcome } from './miners.js';
import { Oracle, type Expected } from './oracle.js';
import { seededRandom, type Random } from './random.js';
import { openWorld, type World } from './world.js';
import { compareWithTruth, printLedger, type Mismatch } from './compare.js';
import type { Writable } from 'node:stream';

export interface SimulationOptions {
  dir: string;
  miners: number;
  hours: number;
  seed: number;
  /** Fraction of virtual time the sweeper is down, in long stretches. */
  sweeperOutage: number;
  /** Drop all in-memory state every K virtual minutes (0 = never). */
  crashEveryMinutes: number;
  devices: number;
  settings: MiningSettings;
  sweepIntervalMs: number;
  stepMs?: number;
  start?: number;
  onProgress?: (done: number, total: number) => void;
  /** Where to print the replay ledgers of the first few mismatching accounts. */
  ledgerOut?: Writable;
  /** Simulate against this (empty) store instead of an embedded one in `dir`. */
  eventStoreUrl?: string;
}

export interface SimulationReport {
  miners: number;
  devices: number;
  events: bigint;
  sessions: number;
  virtualHours: number;
  realSeconds: number;
  crashes: number;
  sweeps: number;
  /** MiningStopped events by reason, as recorded in the store. */
  stops: Record<string, number>;
  mismatches: Mismatch[];
}

async function countStops(world: World): Promise<Record<string, number>> {
  const stops: Record<string, number> = { user: 0, timeout: 0, max_duration: 0 };
  for await (const event of world.store.readAll()) {
    if (event.type === 'MiningStopped') {
      const reason = (event.data as { reason: string }).reason;
      stops[reason] = (stops[reason] ?? 0) + 1;
    }
  }
  return stops;
}

const COMPATIBLE: Record<Expected, Outcome[]> = {
  created: ['created'],
  existing: ['existing'],
  recorded: ['recorded'],
  NOT_MINING: ['NOT_MINING'],
  SESSION_EXPIRED: ['SESSION_EXPIRED', 'NOT_MINING'],
  SESSION_MISMATCH: ['SESSION_MISMATCH'],
  expired: ['stopped', 'NOT_MINING'],
  coalesced: ['coalesced'],
  stopped: ['stopped'],
};

function outcomeOf(action: Action, result: CommandResult): Outcome {
  const { decision } = result;
  if (decision.error) return decision.error;
  if (action.type === 'start') return decision.created ? 'created' : 'existing';
  if (action.type === 'stop') return 'stopped';
  return decision.recorded === false ? 'coalesced' : 'recorded';
}

function expectationOf(oracle: Oracle, device: Device, action: Action, at: number): Expected | undefined {
  switch (action.type) {
    case 'start': return oracle.start(device.account, at);
    case 'heartbeat': return oracle.heartbeat(device.account, at, action.sessionId);
    case 'stop': return oracle.stop(device.account, at);
    default: return undefined;
  }
}

/** Long outage stretches: one per segment of the timeline, each a fraction `f` of its segment. */
export function outageWindows(start: number, end: number, fraction: number, random: Random): [number, number][] {
  if (fraction <= 0) return [];
  const segments = Math.max(1, Math.round((end - start) / (8 * 3_600_000)));
  const length = (end - start) / segments;
  return Array.from({ length: segments }, (_, i) => {
    const outage = length * Math.min(1, fraction);
    const from = start + i * length + random.next() * (length - outage);
    return [from, from + outage] as [number, number];
  });
}

async function step(world: World, oracle: Oracle, due: Device[], now: number, random: Random, mismatches: Mismatch[]) {
  const moves = due.map((device) => ({ device, action: act(device, now, random) }));
  const actor = { kind: 'user' as const, id: 'simulation' };
  const results = await Promise.all(moves.map(({ device, action }) =>
    action.type === 'start' || action.type === 'heartbeat' || action.type === 'stop'
      ? world.handler.execute(device.account, action, { actor: { ...actor, id: device.account }, correlationId: `sim-${device.account}-${device.id}` })
      : undefined));
  // The server served one account's commands in issue order, at one instant; so does the oracle.
  moves.forEach(({ device, action }, i) => {
    const result = results[i];
    if (!result) return;
    const expected = expectationOf(oracle, device, action, now)!;
    const outcome = outcomeOf(action, result);
    if (outcome === 'created') oracle.bind(device.account, result.session!.sessionId);
    const sameSession = outcome !== 'existing' || oracle.sessionOf(device.account) === result.session?.sessionId;
    if (!COMPATIBLE[expected].includes(outcome) || !sameSession) {
      mismatches.push({ account: device.account, what: `${action.type} at ${new Date(now).toISOString()}: server ${outcome}, truth ${expected}` });
    }
    react(device, action, outcome, result.session?.sessionId, now, random);
  });
}

export async function runSimulation(options: SimulationOptions): Promise<SimulationReport> {
  const began = performance.now();
  const stepMs = options.stepMs ?? 1000;
  const start = options.start ?? Date.UTC(2026, 0, 1);
  const end = start + options.hours * 3_600_000;
  const random = seededRandom(options.seed);
  const clock = virtualClock(start);
  const devices = createDevices(options.miners, options.devices, start, random);
  const outages = outageWindows(start, end, options.sweeperOutage, random);
  const oracle = new Oracle({
    timeoutMs: options.settings.heartbeatTimeoutMs, maxSessionMs: options.settings.maxSessionMs, rateUnitsPerHour: options.settings.rateUnitsPerHour,
    minHeartbeatIntervalMs: options.settings.minHeartbeatIntervalMs,
  });
  const world = await openWorld({ dir: options.dir, clock, settings: options.settings, eventStoreUrl: options.eventStoreUrl });
  const mismatches: Mismatch[] = [];
  const buckets = new Map<number, Device[]>();
  let current = -1;
  // A device always moves in a later step than the one it just acted in (or it would be lost).
  const schedule = (device: Device) => {
    const slot = Math.max(current + 1, Math.ceil((device.nextAt - start) / stepMs));
    const bucket = buckets.get(slot);
    if (bucket) bucket.push(device);
    else buckets.set(slot, [device]);
  };
  devices.forEach(schedule);
  let nextSweep = start + options.sweepIntervalMs;
  const crashEveryMs = options.crashEveryMinutes * 60_000;
  let nextCrash = crashEveryMs > 0 ? start + crashEveryMs : Infinity;
  let crashes = 0;
  let sweeps = 0;
  const slots = Math.ceil((end - start) / stepMs);
  for (let slot = 0; slot <= slots; slot++) {
    current = slot;
    const now = start + slot * stepMs;
    clock.set(now);
    const due = buckets.get(slot);
    if (due) {
      buckets.delete(slot);
      await step(world, oracle, due, now, random, mismatches);
      due.forEach(schedule);
    }
    if (now >= nextSweep) {
      nextSweep += options.sweepIntervalMs;
      if (!outages.some(([from, to]) => now >= from && now < to)) {
        await world.sweeper.sweepOnce();
        sweeps++;
      }
    }
    if (now >= nextCrash) {
      nextCrash += crashEveryMs;
      await world.crash();
      crashes++;
    }
    if (slot % 600 === 0) options.onProgress?.(slot, slots);
  }
  const truth = oracle.truth();
  const events = await world.store.headPosition();
  const compared = await compareWithTruth(world, truth);
  mismatches.push(...compared);
  const stops = await countStops(world);
  if (options.ledgerOut) {
    const accounts = [...new Set(mismatches.map((m) => m.account).filter((a) => a !== '*'))].slice(0, 3);
    for (const account of accounts) await printLedger(world, account, options.ledgerOut);
  }
  await world.close();
  return {
    miners: options.miners,
    devices: devices.length,
    events: events === 'start' ? 0n : events,
    sessions: [...truth.values()].reduce((sum, t) => sum + t.sessions, 0),
    virtualHours: options.hours,
    realSeconds: (performance.now() - began) / 1000,
    crashes,
    sweeps,
    stops,
    mismatches,
  };
}
