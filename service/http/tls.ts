// The TCP listener over TLS: an HTTPS server with the Fastify instance's own request handler,
// timeouts and client-error answers, so auth, rate limits, health probes and graceful close work
// as on plain HTTP. The unix socket stays plain HTTP (the kernel carries it; SO_PEERCRED guards it).
import type http from 'node:http';
import https from 'node:https';
import type { FastifyInstance } from 'fastify';
import { clientErrorHandler } from './error-mapping.js';
import { RAW_SERVER_OPTIONS, answerConnect } from './raw-requests.js';

/** PEM texts, checked at start-up (service/cli/serve-tls.ts). */
export interface TlsConfig {
  /** The server certificate, optionally followed by its intermediate certificates. */
  cert: string;
  key: string;
  /** With it, clients must present a certificate this CA signed (mutual TLS), besides the token. */
  clientCa: string | null;
}

/** TLS 1.0 and 1.1 are deprecated (RFC 8996). */
export const MIN_TLS_VERSION = 'TLSv1.2';

export function httpsOptions(tls: TlsConfig): https.ServerOptions {
  return {
    cert: tls.cert,
    key: tls.key,
    minVersion: MIN_TLS_VERSION,
    ...(tls.clientCa !== null ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
  };
}

/** The primary server's timeouts (buildApp set them from the service limits). */
function timeoutsOf(server: http.Server): http.ServerOptions {
  const s = server as http.Server & { connectionsCheckingInterval?: number };
  return {
    requestTimeout: s.requestTimeout,
    headersTimeout: s.headersTimeout,
    keepAliveTimeout: s.keepAliveTimeout,
    ...(s.connectionsCheckingInterval !== undefined ? { connectionsCheckingInterval: s.connectionsCheckingInterval } : {}),
  };
}

/** An HTTPS server answering like app.createExtraServer() does (listen on it yourself). */
export function createHttpsServer(app: FastifyInstance, tls: TlsConfig): https.Server {
  // Fastify's one request handler is the primary server's 'request' listener (app.ts's serverFactory).
  const [handler] = app.server.listeners('request') as http.RequestListener[];
  if (handler === undefined) throw new Error('the Fastify server has no request handler');
  const server = https.createServer({ ...RAW_SERVER_OPTIONS, ...timeoutsOf(app.server), ...httpsOptions(tls) }, handler);
  server.on('clientError', clientErrorHandler.bind(app));
  // A failed handshake (plain HTTP on this port, an unknown CA, no client certificate): logged, closed.
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
    app.log.info({ err: { code: err.code, message: err.message }, remote: socket.remoteAddress }, 'TLS handshake failed');
    socket.destroy();
  });
  answerConnect(server);
  return server;
}
