// Commands for one stream run one at a time in this process; different streams run concurrently.

export interface KeyedQueue {
  run<T>(key: string, task: () => Promise<T>): Promise<T>;
  readonly size: number;
}

interface Waiting {
  task: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export function keyedQueue(): KeyedQueue {
  // A key is present while one of its tasks runs; the array holds those waiting behind it (null: none).
  // A task that finds its key idle runs at once and its caller gets the task's own promise: one
  // promise per command for the bookkeeping, not three.
  const busy = new Map<string, Waiting[] | null>();

  function start<T>(key: string, task: () => Promise<T>): Promise<T> {
    let result: Promise<T>;
    try {
      result = task();
    } catch (error) {
      result = Promise.reject(error);
    }
    const next = () => {
      const waiting = busy.get(key);
      const following = waiting?.shift();
      if (following === undefined) {
        busy.delete(key);
        return;
      }
      start(key, following.task).then(following.resolve, following.reject);
    };
    result.then(next, next);
    return result;
  }

  return {
    run<T>(key: string, task: () => Promise<T>): Promise<T> {
      if (!busy.has(key)) {
        busy.set(key, null);
        return start(key, task);
      }
      return new Promise<T>((resolve, reject) => {
        let waiting = busy.get(key);
        if (!waiting) busy.set(key, (waiting = []));
        waiting.push({ task, resolve: resolve as (value: unknown) => void, reject });
      });
    },
    get size() {
      return busy.size;
    },
  };
}
