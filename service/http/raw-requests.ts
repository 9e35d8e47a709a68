// What Node's HTTP server answers by itself, before Fastify sees a request, answered like every
// other 4xx instead: a CONNECT request (Node drops the connection without a word when nobody
// listens for 'connect') and an HTTP/1.1 request without a Host header (Node sends an empty 400).
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './error-mapping.js';

/** Server options: let a request without Host through to hostHeaderHook, which answers it in JSON. */
export const RAW_SERVER_OPTIONS: http.ServerOptions = { requireHostHeader: false };

function rawJson(socket: Duplex, status: number, reason: string, body: object, extra = ''): void {
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n${extra}Connection: close\r\n\r\n${text}`,
  );
}

/** CONNECT is no method of this API: 405 JSON, then close (no tunnel is ever made). */
export function answerConnect(server: http.Server): void {
  server.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
    socket.on('error', () => undefined);
    rawJson(socket, 405, 'Method Not Allowed', { code: 'method_not_allowed', message: 'CONNECT is not supported: this is not a proxy' }, 'Allow: GET, POST\r\n');
  });
}

/** HTTP/1.1 requires Host (RFC 9112 §3.2): 400 {code: host_missing}, in JSON like every other 400. */
export async function hostHeaderHook(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
    await reply.code(400).send(errorBody(request, 400, 'host_missing', 'an HTTP/1.1 request needs a Host header'));
  }
}
