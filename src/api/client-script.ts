// GET /ui/client.js: the app client (src/client) as one ES module for browsers, with a long cache
// lifetime and an ETag. Built by `npm run build` into dist/ui/client.js; when serve runs from source
// (tests under tsx) there is no build, so it is bundled on first request with esbuild, a dev tool.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginCallback } from 'fastify';

/** dist/src/api/ → dist/ui/client.js. From src/api/ this names a file that does not exist. */
export const BUILT_CLIENT = fileURLToPath(new URL('../../ui/client.js', import.meta.url));
const SOURCE_ENTRIES = ['../client/index.ts', '../client/index.js'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
/** A week: apps pick up a new release within that, and revalidate cheaply with the ETag meanwhile. */
export const CLIENT_CACHE_CONTROL = 'public, max-age=604800, stale-while-revalidate=86400';

/** The client as one minified ES module, for browsers and size figures. Needs esbuild (devDependency). */
export async function bundleClient(): Promise<string> {
  const entry = SOURCE_ENTRIES.find((path) => existsSync(path));
  if (!entry) throw new Error('the client source is missing (src/client/index.ts or its build)');
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [entry], bundle: true, format: 'esm', platform: 'neutral', target: 'es2020',
    minify: true, write: false, legalComments: 'none',
  });
  return result.outputFiles[0]!.text;
}

/** `npm run build`'s last step: dist/ui/client.js beside the compiled server. */
export async function writeClientBundle(path = BUILT_CLIENT): Promise<string> {
  const code = await bundleClient();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, code);
  return path;
}

interface ClientScript { code: string; etag: string }

const loaded = new Map<string, Promise<ClientScript>>();

/** The built file, else a bundle made now; cached for the process (a failure is retried next time). */
export function clientScript(path = BUILT_CLIENT, bundle: () => Promise<string> = bundleClient): Promise<ClientScript> {
  let script = loaded.get(path);
  if (!script) {
    script = (async () => {
      const code = existsSync(path) ? readFileSync(path, 'utf8') : await bundle();
      return { code, etag: `"${createHash('sha256').update(code).digest('base64url').slice(0, 27)}"` };
    })();
    loaded.set(path, script);
    script.catch(() => loaded.delete(path));
  }
  return script;
}

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}

export interface ClientScriptOptions {
  /** Where the built bundle is (default dist/ui/client.js), and how to make one when it is absent. */
  path?: string;
  bundle?: () => Promise<string>;
}

export const clientScriptRoute: FastifyPluginCallback<ClientScriptOptions> = (app, options, done) => {
  app.get('/ui/client.js', { schema: { hide: true } }, async (request, reply) => {
    let script: ClientScript;
    try {
      script = await clientScript(options.path, options.bundle);
    } catch (error) {
      request.log.error({ err: error }, 'the app client is not built; run npm run build');
      return reply.code(503).header('retry-after', '60').send({
        statusCode: 503, code: 'UNAVAILABLE', error: 'Service Unavailable', message: 'the app client is not built (npm run build)',
      });
    }
    // Public code without credentials: any page may load it as a module script.
    void reply.header('access-control-allow-origin', '*').header('cross-origin-resource-policy', 'cross-origin')
      .header('cache-control', CLIENT_CACHE_CONTROL).header('etag', script.etag);
    if (matches(request.headers['if-none-match'], script.etag)) return reply.code(304).send();
    return reply.type('text/javascript; charset=utf-8').send(script.code);
  });
  done();
};
