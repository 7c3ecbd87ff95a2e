// Simulated devices that behave like people: sessions of varying length, heartbeats every 30 s with
// jitter, dropped requests, the app backgrounded for minutes, phones dead for hours, several devices
// per account, restarts right after a timeout.
import type { Random } from './random.js';

export type DeviceState = 'offline' | 'mining';

export interface Device {
  readonly account: string;
  readonly id: number;
  state: DeviceState;
  /** The session this device believes it is heartbeating for. */
  sessionId: string | undefined;
  /** Virtual time of its next move. */
  nextAt: number;
}

export type Action =
  | { type: 'start' }
  | { type: 'heartbeat'; sessionId: string | undefined }
  | { type: 'stop' }
  /** Sent, but lost on the way: the server never hears it. */
  | { type: 'dropped' }
  /** Nothing is sent: the app is in the background or the phone is dead. */
  | { type: 'silent' };

export type Outcome = 'created' | 'existing' | 'recorded' | 'coalesced' | 'stopped' | 'NOT_MINING' | 'SESSION_EXPIRED' | 'SESSION_MISMATCH';

export const BEHAVIOUR = {
  heartbeatMs: 30_000,
  jitterMs: 4_000,
  /** Per heartbeat: the user stops (mean session ≈ 2 h). */
  userStop: 1 / 240,
  /** Per heartbeat: the app goes to the background for a few minutes (sometimes past the timeout). */
  background: 0.01,
  backgroundMeanMs: 4 * 60_000,
  /** Per heartbeat: the phone dies for hours — the incident of the seed report. */
  phoneDies: 0.0015,
  /** Per heartbeat: the request is lost in transit. */
  drop: 0.03,
  offlineMeanMs: 90 * 60_000,
  /** After a timeout, how often the user presses start again at once. */
  restartAfterTimeout: 0.7,
};

export function createDevices(accounts: number, maxDevices: number, start: number, random: Random): Device[] {
  const devices: Device[] = [];
  for (let a = 0; a < accounts; a++) {
    const account = `miner-${a.toString().padStart(6, '0')}`;
    const count = maxDevices > 1 && random.chance(0.3) ? random.int(2, maxDevices) : 1;
    for (let id = 0; id < count; id++) {
      // Most begin mining within the first half hour; a quarter start later.
      const firstAt = start + (random.chance(0.75) ? random.int(0, 30 * 60_000) : random.int(0, 6 * 3_600_000));
      devices.push({ account, id, state: 'offline', sessionId: undefined, nextAt: firstAt });
    }
  }
  return devices;
}

function nextBeat(now: number, random: Random): number {
  return now + BEHAVIOUR.heartbeatMs + random.int(-BEHAVIOUR.jitterMs, BEHAVIOUR.jitterMs);
}

/** What a device does when its time comes; also schedules its next move. */
export function act(device: Device, now: number, random: Random): Action {
  if (device.state === 'offline') {
    device.nextAt = now + 5_000; // until the answer arrives
    return { type: 'start' };
  }
  if (random.chance(BEHAVIOUR.userStop)) {
    device.state = 'offline';
    device.nextAt = now + random.exponential(BEHAVIOUR.offlineMeanMs);
    return { type: 'stop' };
  }
  if (random.chance(BEHAVIOUR.phoneDies)) {
    device.nextAt = now + random.int(3_600_000, 14 * 3_600_000);
    return { type: 'silent' };
  }
  if (random.chance(BEHAVIOUR.background)) {
    device.nextAt = now + random.exponential(BEHAVIOUR.backgroundMeanMs);
    return { type: 'silent' };
  }
  device.nextAt = nextBeat(now, random);
  if (random.chance(BEHAVIOUR.drop)) return { type: 'dropped' };
  return { type: 'heartbeat', sessionId: device.sessionId };
}

/** How a device reacts to the server's answer. */
export function react(device: Device, action: Action, outcome: Outcome, sessionId: string | undefined, now: number, random: Random): void {
  if (action.type === 'start') {
    device.state = 'mining';
    device.sessionId = sessionId;
    device.nextAt = nextBeat(now, random);
    return;
  }
  if (action.type !== 'heartbeat') return;
  if (outcome === 'NOT_MINING' || outcome === 'SESSION_EXPIRED') {
    device.state = 'offline';
    device.sessionId = undefined;
    device.nextAt = random.chance(BEHAVIOUR.restartAfterTimeout)
      ? now + random.int(0, 3_000)
      : now + random.exponential(BEHAVIOUR.offlineMeanMs);
  } else if (outcome === 'SESSION_MISMATCH') {
    // Another device restarted the session: an (idempotent) start adopts the live one.
    device.state = 'offline';
    device.nextAt = now + random.int(0, 2_000);
  }
}
