// Runs the decision service: listens on a unix socket and on TCP (HTTPS with a certificate),
// probes the kernel and loads the stored self-tests, tells systemd when it is ready and when it
// stops, and shuts down gracefully (stop accepting, cancel running self-tests, finish in-flight
// requests, remove the socket). buildApp() (app.ts) is the service itself and does not listen.
import { mkdir, chmod, chown, lstat, realpath, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import type http from 'node:http';
import type https from 'node:https';
import path from 'node:path';
import closeWithGrace from 'close-with-grace';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { KnowledgeBase } from '../../policies/knowledge-base-schema.js';
import type { OperatorPolicy } from '../../policies/operator-policy.js';
import { loadNative } from '../../native/index.js';
import { probeKernel } from '../../probes/kernel.js';
import { SelfTestCache } from '../../probes/selftest-cache.js';
import type { KernelFacts } from '../../probes/types.js';
import { buildApp, type AppDeps } from './app.js';
import { ServiceMetrics } from './metrics.js';
import { ServiceState } from './state.js';
import { createHttpsServer, type TlsConfig } from './tls.js';
import { gatherHostFacts, type HostFacts } from '../../probes/host.js';
import { isJournalStream, prefixPinoLine } from '../journal.js';
import { gatherQemuFacts, type QemuFacts } from '../../probes/qemu.js';

export const DEFAULT_SOCKET_PATH = '/run/xfsguard/xfsguard.sock';
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8470;

/** A configuration the service refuses to start with (the CLI exits 2 with the message). */
export class ServeConfigError extends Error {
  override readonly name = 'ServeConfigError';
}

export interface ListenConfig {
  /** Unix socket path, or null for none. */
  socketPath: string | null;
  /** TCP address, or null for none; with `tls`, HTTPS. */
  tcp: { host: string; port: number; tls?: TlsConfig | null } | null;
  /** Needed to bind an address other than loopback (which then needs TLS too). */
  allowRemote?: boolean;
}

export interface ServerOptions extends ListenConfig, Omit<AppDeps, 'state' | 'metrics' | 'shutdownSignal' | 'native' | 'logger' | 'loggerInstance'> {
  policy: OperatorPolicy;
  knowledgeBase: KnowledgeBase;
  stateDir: string;
  /** Fastify logger options; default: JSON lines at $LOG_LEVEL (info), pretty on a TTY. */
  logger?: FastifyServerOptions['logger'];
  /** Replaceable for tests. */
  probeKernel?: () => Promise<KernelFacts>;
  hostFacts?: () => Promise<HostFacts>;
  qemuFacts?: () => Promise<QemuFacts>;
  /** systemd notification; default: the native addon's sdNotify when it loads. */
  notify?: (state: string) => void;
  /** Whether to try the native addon (default true). */
  loadNative?: boolean;
}

export interface RunningServer {
  app: FastifyInstance;
  /** Where it listens: "unix:/path" and "http://host:port" (or "https://host:port"). */
  addresses: string[];
  /** The TCP port actually bound (for port 0), or null. */
  port: number | null;
  socketPath: string | null;
  /** Graceful shutdown; idempotent. */
  close(): Promise<void>;
}

function tcpUrl(scheme: 'http' | 'https', host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  if (net.isIPv6(host)) return host === '::1' || /^::ffff:127\./i.test(host);
  return false;
}

/** JSON lines to stdout; pino-pretty only when stdout is a terminal and pino-pretty is installed. */
export function defaultLoggerOptions(level = process.env.LOG_LEVEL ?? 'info'): FastifyServerOptions['logger'] {
  if (process.stdout.isTTY) {
    try {
      createRequire(import.meta.url).resolve('pino-pretty');
      return { level, transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } };
    } catch {
      // not installed (production): JSON
    }
  }
  // Under systemd with stdout on the journal: a <N> priority prefix per line (journalctl -p works).
  if (isJournalStream(1)) return { level, hooks: { streamWrite: prefixPinoLine } };
  return { level };
}

function connectable(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ path: socketPath });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(true); // something holds it and does not answer: do not remove it
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(true);
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else reject(new ServeConfigError(`cannot check the existing socket ${socketPath}: ${err.code ?? err.message}`));
    });
  });
}

/** Creates the socket's directory; removes a stale socket file, only when nothing listens on it. */
async function prepareSocket(socketPath: string, log: FastifyInstance['log']): Promise<void> {
  await mkdir(path.dirname(socketPath), { recursive: true, mode: 0o755 });
  let st;
  try {
    st = await lstat(socketPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!st.isSocket()) throw new ServeConfigError(`${socketPath} exists and is not a socket: not removing it`);
  if (await connectable(socketPath)) throw new ServeConfigError(`another process listens on ${socketPath} (is xfsguard already running?)`);
  await unlink(socketPath);
  log.warn({ socket: socketPath }, 'removed a stale socket file');
}

/** Listens with a umask that leaves the socket 0660 from the start, then makes sure of it. */
async function listenOnSocket(listen: () => Promise<unknown>, socketPath: string, gid: number | null): Promise<bigint> {
  const old = process.umask(0o117);
  try {
    await listen();
  } finally {
    process.umask(old);
  }
  // The socket group's members must be able to connect (SO_PEERCRED then checks who they are).
  if (gid !== null) await chown(socketPath, -1, gid);
  await chmod(socketPath, 0o660);
  return (await lstat(socketPath, { bigint: true })).ino;
}

function listenServer(server: http.Server | https.Server | net.Server, options: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stops accepting, lets in-flight requests finish, closes keep-alive connections as they go idle. */
function closeHttpServer(server: http.Server | https.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    const timer = setInterval(() => server.closeIdleConnections(), 100);
    server.close(() => {
      clearInterval(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

export function checkListenConfig(cfg: ListenConfig): void {
  if (cfg.socketPath === null && cfg.tcp === null) throw new ServeConfigError('nothing to listen on: both the unix socket and TCP are disabled');
  if (cfg.socketPath !== null && !path.isAbsolute(cfg.socketPath)) throw new ServeConfigError(`--socket must be an absolute path; got ${JSON.stringify(cfg.socketPath)}`);
  if (cfg.socketPath !== null && Buffer.byteLength(cfg.socketPath) > 107) throw new ServeConfigError(`--socket path is longer than a unix socket address allows (107 bytes): ${cfg.socketPath}`);
  if (cfg.tcp !== null) {
    const { host, port } = cfg.tcp;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ServeConfigError(`--port must be 0 to 65535; got ${port}`);
    if (host !== 'localhost' && net.isIP(host) === 0) throw new ServeConfigError(`--host must be an IP address (or localhost); got ${JSON.stringify(host)}`);
    if (!isLoopback(host) && cfg.allowRemote !== true) {
      throw new ServeConfigError(`--host ${host} is not a loopback address: pass --allow-remote, with --tls-cert and --tls-key, to serve other machines`);
    }
    if (!isLoopback(host) && (cfg.tcp.tls ?? null) === null) {
      throw new ServeConfigError(`--host ${host} is not a loopback address: it needs TLS (--tls-cert and --tls-key), or the bearer token would cross the network in clear text`);
    }
  }
}

/**
 * The policy with each allowed root's real path added: requests are checked against the path as
 * given and against the directory it resolves to, so a root that is itself a symlink (or under
 * one) would otherwise refuse every path in it. Resolved once, at start-up.
 */
export async function withResolvedRoots(policy: OperatorPolicy): Promise<OperatorPolicy> {
  const roots = [...policy.allowed_roots];
  for (const root of policy.allowed_roots) {
    try {
      const real = await realpath(root);
      if (!roots.includes(real)) roots.push(real);
    } catch {
      // missing for now: nothing under it can be judged anyway
    }
  }
  return roots.length === policy.allowed_roots.length ? policy : { ...policy, allowed_roots: roots };
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  checkListenConfig(opts);
  const policy = await withResolvedRoots(opts.policy);
  const state = new ServiceState();
  const metrics = new ServiceMetrics(state);
  const shutdown = new AbortController();

  let native: { available: boolean; error: string | null } = { available: false, error: 'not loaded' };
  let notify = opts.notify ?? ((_: string) => undefined);
  if (opts.loadNative !== false) {
    try {
      const binding = loadNative();
      native = { available: true, error: null };
      if (opts.notify === undefined) notify = (s) => void binding.sdNotify(s); // {sent:false} is fine: not under systemd
    } catch (err) {
      native = { available: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  const app = await buildApp({
    ...opts,
    policy,
    logger: opts.logger ?? defaultLoggerOptions(),
    state,
    metrics,
    shutdownSignal: shutdown.signal,
    native,
  });
  if (!native.available) app.log.warn({ error: native.error }, 'native addon unavailable: self-tests will come back unsupported');
  await app.ready();

  const tcp = opts.tcp === null ? null : { ...opts.tcp, host: opts.tcp.host === 'localhost' ? '127.0.0.1' : opts.tcp.host };
  const tls = opts.tcp?.tls ?? null;
  if (tcp !== null && !isLoopback(tcp.host)) {
    const clientCerts = tls !== null && tls.clientCa !== null ? 'client certificates are required' : 'any client that has the token gets in (--tls-client-ca would also require a client certificate)';
    app.log.warn({ host: tcp.host }, `listening on a non-loopback address (--allow-remote) over TLS: ${clientCerts}; restrict who can reach the port with a firewall`);
  }

  const extras: (http.Server | https.Server)[] = [];
  const addresses: string[] = [];
  let socketIno: bigint | null = null;
  let port: number | null = null;
  let primaryUsed = false;
  const listenOn = async (options: net.ListenOptions, withTls: TlsConfig | null = null): Promise<http.Server | https.Server> => {
    if (withTls !== null) {
      // HTTPS: never the primary server, which Fastify made plain HTTP (the socket's).
      const server = createHttpsServer(app, withTls);
      extras.push(server);
      await listenServer(server, options);
      app.log.info(`Server listening at ${tcpUrl('https', options.host!, (server.address() as net.AddressInfo).port)}`);
      return server;
    }
    if (!primaryUsed) {
      primaryUsed = true;
      await app.listen(options.path !== undefined ? { path: options.path } : { host: options.host!, port: options.port! });
      return app.server;
    }
    const server = app.createExtraServer();
    extras.push(server);
    await listenServer(server, options);
    return server;
  };

  const removeSocket = async (): Promise<void> => {
    if (opts.socketPath === null || socketIno === null) return;
    try {
      const st = await lstat(opts.socketPath, { bigint: true });
      if (st.ino === socketIno) await unlink(opts.socketPath);
    } catch {
      // already gone
    }
  };

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      state.markClosing();
      notify('STOPPING=1');
      app.log.info('shutting down: no new connections; cancelling running self-tests; finishing requests in flight');
      shutdown.abort();
      const extrasClosed = Promise.all(extras.map(closeHttpServer));
      const idle = setInterval(() => app.server.closeIdleConnections(), 100);
      try {
        await app.close();
        await extrasClosed;
      } finally {
        clearInterval(idle);
        await removeSocket();
      }
      app.log.info('stopped');
    })());

  try {
    if (opts.socketPath !== null) {
      await prepareSocket(opts.socketPath, app.log);
      socketIno = await listenOnSocket(() => listenOn({ path: opts.socketPath! }), opts.socketPath, opts.auth?.socketGroup?.gid ?? null);
      addresses.push(`unix:${opts.socketPath}`);
    }
    if (tcp !== null) {
      const server = await listenOn({ host: tcp.host, port: tcp.port }, tls);
      const addr = server.address();
      port = typeof addr === 'object' && addr !== null ? addr.port : tcp.port;
      addresses.push(tcpUrl(tls !== null ? 'https' : 'http', tcp.host, port));
    }

    // Start-up: the kernel once, the stored self-tests, the QEMU versions; ready only then.
    const kernel = await (opts.probeKernel ?? probeKernel)();
    const records = await new SelfTestCache(opts.stateDir, (m) => app.log.warn(m)).list();
    const qemu = await (opts.qemuFacts ?? gatherQemuFacts)();
    // Host facts only when /v1/host first asks: systeminformation runs processes (in a child, time-bounded).
    state.markReady(kernel, records, opts.hostFacts ?? (() => gatherHostFacts()), qemu);
  } catch (err) {
    await close().catch(() => undefined);
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' || (err as NodeJS.ErrnoException).code === 'EACCES') {
      throw new ServeConfigError(`cannot listen: ${(err as Error).message}`);
    }
    throw err;
  }

  notify('READY=1');
  app.log.info(
    {
      addresses,
      kernel: state.kernel?.release,
      knowledge_base_revision: opts.knowledgeBase.revision,
      policy: opts.policy.source,
      allowed_roots: policy.allowed_roots,
      cached_selftests: state.entries().length,
      native_addon: native.available,
    },
    'ready',
  );
  return { app, addresses, port, socketPath: opts.socketPath, close };
}

/**
 * Starts the service and shuts it down gracefully on SIGTERM/SIGINT (or a fatal error). Resolves
 * with the exit code once it has stopped; close-with-grace then ends the process.
 */
export async function runServer(opts: ServerOptions & { graceMs?: number; stop?: AbortSignal }): Promise<number> {
  const server = await startServer(opts);
  // SIGTERM/SIGINT while starting (systemd stopping a unit not yet ready) is a clean stop: exit 0
  // after the same graceful close, never a death by signal (143) that leaves the socket behind.
  if (opts.stop?.aborted === true) {
    server.app.log.info({ signal: opts.stop.reason as unknown }, 'signal received before ready: stopping');
    await server.close();
    return 0;
  }
  return new Promise<number>((resolve) => {
    closeWithGrace({ delay: opts.graceMs ?? 10_000, logger: { error: (m: unknown) => server.app.log.error(m) } }, async ({ signal, err }) => {
      if (err !== undefined) server.app.log.error({ err }, 'fatal error: shutting down');
      else server.app.log.info({ signal }, 'signal received');
      await server.close();
      resolve(err !== undefined ? 1 : 0);
    });
  });
}
