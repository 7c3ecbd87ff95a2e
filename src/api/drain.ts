// Graceful shutdown of the HTTP side (SPEC §15): stop accepting, answer what is in flight, then close.
// Node's server.close() destroys every keep-alive socket it considers idle at once, and a client
// that had just written its next request on one got ECONNRESET for a request it had already sent
// (34 of 64 keep-alive clients in the hostile round). Here, while draining:
// - the listening socket is closed first (new connections are refused), the open ones are kept;
// - every answer says `Connection: close`, so a socket ends with the answer it carries;
// - an idle keep-alive socket stays open for `idleGraceMs`, so a request already on its way is read
//   and answered (with `Connection: close`) instead of reset;
// - after that, idle sockets are closed; requests still running get until `boundMs` in all;
// - at `boundMs` whatever is left is destroyed and counted, so SIGTERM stays bounded in every state.
import { Server } from 'node:net';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

export interface DrainOptions {
  /** SHUTDOWN_DRAIN_MS: the whole drain ends within this (ms). */
  boundMs: number;
  /** How long an idle keep-alive socket is kept for a request already on its way (ms). */
  idleGraceMs?: number;
}

export interface DrainResult {
  /** Requests answered while draining. */
  answered: number;
  /** Sockets destroyed with a request still running when the bound was reached. */
  cutOff: number;
  ms: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Stops accepting and drains open connections (see src/api/drain.ts); call before close(). */
    drain(options: DrainOptions): Promise<DrainResult>;
  }
}

const POLL_MS = 20;

export function installDrain(app: FastifyInstance): void {
  let closing = false;
  /** Open sockets and how many requests each has in flight. */
  const sockets = new Map<Socket, number>();
  let answeredWhileDraining = 0;
  const server = app.server;
  server.on('connection', (socket: Socket) => {
    sockets.set(socket, 0);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('request', (request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse) => {
    const socket = request.socket;
    sockets.set(socket, (sockets.get(socket) ?? 0) + 1);
    response.once('close', () => {
      if (closing) answeredWhileDraining++;
      const left = (sockets.get(socket) ?? 1) - 1;
      if (!sockets.has(socket)) return;
      sockets.set(socket, left);
      // The answer said Connection: close; Node ends the socket after it. An idle one left over is ours.
      if (closing && left === 0 && !socket.destroyed) socket.end();
    });
  });
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // While closing, an answer to a request in flight says `Connection: close`.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });

  app.decorate('drain', async function drain(options: DrainOptions): Promise<DrainResult> {
    const started = Date.now();
    closing = true;
    // net.Server's close, not http.Server's: that one would also destroy the idle keep-alive sockets now.
    if (server.listening) Server.prototype.close.call(server);
    const idleGraceMs = Math.min(options.idleGraceMs ?? 1000, options.boundMs);
    const busy = () => {
      let n = 0;
      for (const inFlight of sockets.values()) if (inFlight > 0) n++;
      return n;
    };
    for (;;) {
      const elapsed = Date.now() - started;
      if (sockets.size === 0 || elapsed >= options.boundMs) break;
      if (elapsed >= idleGraceMs) {
        // Past the grace an idle socket gets no new request from us: close it (its client sees a clean FIN).
        for (const [socket, inFlight] of sockets) if (inFlight === 0) socket.end();
        if (busy() === 0) break;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const cutOff = busy();
    for (const socket of sockets.keys()) socket.destroy();
    return { answered: answeredWhileDraining, cutOff, ms: Date.now() - started };
  });
}
