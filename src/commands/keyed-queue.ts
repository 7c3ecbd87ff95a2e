// Commands for one stream run one at a time in this process; different streams run concurrently.

export interface KeyedQueue {
  run<T>(key: string, task: () => Promise<T>): Promise<T>;
  readonly size: number;
}

export function keyedQueue(): KeyedQueue {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(key: string, task: () => Promise<T>): Promise<T> {
      const previous = tails.get(key);
      const result = previous ? previous.then(task, task) : task();
      const tail = result.catch(() => undefined);
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return result;
    },
    get size() {
      return tails.size;
    },
  };
}
