// CORS_ORIGINS (SPEC §13): apps on the listed origins may call the API from a browser. Exact origins
// only (validated in src/config), never a wildcard; bearer tokens, not cookies, so no credentials mode.
// Retry-After is exposed so a cross-origin client can honour it on 429 and 503.
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

export async function installCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  await app.register(cors, {
    origin: [...origins],
    methods: ['GET', 'POST'],
    allowedHeaders: ['authorization', 'content-type', 'x-request-id', 'x-correlation-id'],
    exposedHeaders: ['retry-after', 'x-request-id'],
    credentials: false,
    // Browsers cap this (Chromium at 2 h); ten minutes spares a preflight before most heartbeats.
    maxAge: 600,
    strictPreflight: true,
  });
}
