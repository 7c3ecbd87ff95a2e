// ?minPosition= (SPEC §5) for the reads of a resource: wait, bounded, until the read model has
// applied the client's own write; beyond the store's head → 400, still behind → 503.
import type { ReadModel } from '../projections/read-model/read-model.js';
import type { EventStore } from '../store/port.js';
import { ApiError } from './errors.js';

export function readWaiter(store: EventStore, readModel: ReadModel, readWaitMs: number): (minPosition: string | undefined) => Promise<void> {
  return async (minPosition) => {
    if (minPosition === undefined) return;
    const target = BigInt(minPosition);
    if (readModel.position() >= target) return;
    const head = await store.headPosition();
    const last = head === 'start' ? 0n : head;
    if (target > last) throw new ApiError(400, 'VALIDATION_FAILED', `minPosition ${target} lies beyond the store's last position ${last}`);
    if (!(await readModel.waitForPosition(target, readWaitMs))) {
      throw new ApiError(503, 'UNAVAILABLE', `the read model has not reached position ${target} within ${readWaitMs} ms`, 1);
    }
  };
}
