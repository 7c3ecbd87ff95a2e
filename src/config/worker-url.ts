// Where a worker thread's module is, beside the module that starts it: `.ts` under the TypeScript
// loader the tests run with, `.js` once built.

/** `name` without extension, resolved against `from` (the caller's import.meta.url). */
export function siblingWorkerUrl(name: string, from: string): URL {
  const ext = from.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${name}${ext}`, from);
}
