// "Wait until the read model has reached position P": bounded waits resolved by whoever moves the
// position (the projector after a flush, a follower's poll).

export interface PositionWaiters {
  /** Resolves true once current() >= target, false after timeoutMs (or when cancelled). */
  wait(target: bigint, timeoutMs: number): Promise<boolean>;
  /** Re-checks every waiter against current(). */
  notify(): void;
  /** The smallest target still waited for, or null. */
  lowestTarget(): bigint | null;
  readonly size: number;
  /** Resolves every waiter false (on close). */
  cancelAll(): void;
}

interface Waiter {
  target: bigint;
  resolve: (reached: boolean) => void;
  timer: NodeJS.Timeout;
}

export function positionWaiters(current: () => bigint): PositionWaiters {
  const waiters = new Set<Waiter>();

  function settle(waiter: Waiter, reached: boolean): void {
    clearTimeout(waiter.timer);
    waiters.delete(waiter);
    waiter.resolve(reached);
  }

  return {
    wait(target, timeoutMs) {
      if (current() >= target) return Promise.resolve(true);
      if (!(timeoutMs > 0)) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        const waiter: Waiter = { target, resolve, timer: setTimeout(() => settle(waiter, current() >= target), timeoutMs) };
        waiters.add(waiter);
      });
    },
    notify() {
      if (waiters.size === 0) return;
      const position = current();
      for (const waiter of [...waiters]) if (position >= waiter.target) settle(waiter, true);
    },
    lowestTarget() {
      let lowest: bigint | null = null;
      for (const waiter of waiters) if (lowest === null || waiter.target < lowest) lowest = waiter.target;
      return lowest;
    },
    get size() {
      return waiters.size;
    },
    cancelAll() {
      for (const waiter of [...waiters]) settle(waiter, false);
    },
  };
}
