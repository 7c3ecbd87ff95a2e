// GET /ui/: the auditor's timeline page (SPEC §12), static files from src/ui (copied to dist/src/ui
// by the build). Explicit routes, no wildcard: other pages under /ui/ (the client's /ui/client.js)
// register their own. The CSP lets the page talk to this origin only.
import type { FastifyPluginCallback } from 'fastify';
import { readFileSync } from 'node:fs';

const FILES: Record<string, { file: string; type: string }> = {
  '/ui/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ui/timeline.js': { file: 'timeline.js', type: 'text/javascript; charset=utf-8' },
  '/ui/timeline.css': { file: 'timeline.css', type: 'text/css; charset=utf-8' },
};

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export const uiRoutes: FastifyPluginCallback = (app, _options, done) => {
  const dir = new URL('../ui/', import.meta.url);
  for (const [url, { file, type }] of Object.entries(FILES)) {
    const body = readFileSync(new URL(file, dir));
    app.get(url, { schema: { hide: true } }, async (_request, reply) =>
      reply.header('content-type', type).header('content-security-policy', CSP).header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer').send(body));
  }
  app.get('/ui', { schema: { hide: true } }, async (request, reply) => {
    const query = request.url.indexOf('?');
    return reply.redirect(`/ui/${query === -1 ? '' : request.url.slice(query)}`, 301);
  });
  done();
};
