// `xfsguard serve`: the HTTP decision service. The HTTP stack is loaded here only, never by check.
import { positiveInt, parseCommandArgs } from '../args.js';
import type { CommandIo } from '../command.js';
import { CONTEXT_FLAGS, CONTEXT_HELP, loadContext, warnToStderr } from '../context.js';
import { UsageError } from '../usage-error.js';
import { DEFAULT_TOKEN_FILE, TokenFileError } from '../api-token.js';
import { SocketGroupError, serveAuth } from '../serve-auth.js';
import { TlsFilesError, loadTlsFiles } from '../serve-tls.js';
import { resolveStateDir } from '../../../probes/selftest-cache.js';
import { DEFAULT_HOST, DEFAULT_PORT, DEFAULT_SOCKET_PATH, ServeConfigError, defaultLoggerOptions, runServer } from '../../http/server.js';

export const help = `Usage: xfsguard serve [options]

Runs the HTTP decision service on a unix socket, and on TCP only when asked (--tcp, --host or
--port), where every request needs the bearer token of --token-file; TCP is HTTPS with --tls-cert
and --tls-key, and must be to listen on anything but loopback:
  GET  /v1/decision?path=P[&aio=native|io_uring|threads][&selftest=never|auto]  (starts no self-test unless auto)
  POST /v1/selftest {"path": P, "engine"?, "mode"?, "iterations"?}
  GET  /v1/host, /livez, /readyz, /metrics, /openapi.json, /docs
Paths are judged and self-tested only inside the policy's allowed_roots. Logs are JSON lines on
stdout (pretty on a terminal; level from $LOG_LEVEL). Stops gracefully on SIGTERM/SIGINT.

Options:
  --socket PATH             unix socket (default ${DEFAULT_SOCKET_PATH}), mode 0660; peers must be
                            root, the service's user or in --socket-group (checked by SO_PEERCRED)
  --socket-group NAME       the group whose members may use the socket (default: none)
  --no-socket               do not listen on a unix socket
  --tcp                     also listen on TCP (${DEFAULT_HOST}:${DEFAULT_PORT} unless --host/--port)
  --host ADDR               TCP address (default ${DEFAULT_HOST}; implies --tcp)
  --port N                  TCP port (default ${DEFAULT_PORT}; 0 picks a free one; implies --tcp)
  --token-file FILE         the bearer token TCP requests must send (default ${DEFAULT_TOKEN_FILE},
                            written by 'xfsguard install', mode 0640)
  --no-tcp                  do not listen on TCP (the default)
  --allow-remote            allow --host to be a non-loopback address (needs --tls-cert and --tls-key)
  --tls-cert FILE           PEM certificate (chain) of the TCP listener: TCP becomes HTTPS (TLS 1.2+)
  --tls-key FILE            PEM private key of --tls-cert (unencrypted, not readable by every user)
  --tls-client-ca FILE      PEM CA: TCP clients must also present a certificate it signed (mutual TLS)
  --selftest-budget-ms MS   time budget of a self-test the service runs (default 20000)
  --log-level LEVEL         fatal, error, warn, info (default), debug, trace
${CONTEXT_HELP}

Exit codes: 0 stopped cleanly (also on SIGTERM/SIGINT before it was ready); 2 bad usage, policy or knowledge base (nothing started); 1 internal error.`;

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export async function run(argv: string[], _io: CommandIo): Promise<number> {
  // Until the server's own handlers are in place, a stop signal is remembered, not fatal.
  const stop = new AbortController();
  const early = (signal: NodeJS.Signals) => stop.abort(signal);
  process.on('SIGTERM', early);
  process.on('SIGINT', early);
  try {
    return await serve(argv, stop.signal);
  } finally {
    process.off('SIGTERM', early);
    process.off('SIGINT', early);
  }
}

async function serve(argv: string[], stop: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs('serve', argv, {
    socket: { type: 'string' },
    'no-socket': { type: 'boolean' },
    host: { type: 'string' },
    port: { type: 'string' },
    'no-tcp': { type: 'boolean' },
    tcp: { type: 'boolean' },
    'token-file': { type: 'string' },
    'socket-group': { type: 'string' },
    'allow-remote': { type: 'boolean' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'tls-client-ca': { type: 'string' },
    'selftest-budget-ms': { type: 'string' },
    'log-level': { type: 'string' },
    ...CONTEXT_FLAGS,
  });
  if (positionals.length > 0) throw new UsageError(`serve: takes no operands; got ${positionals.map((p) => JSON.stringify(p)).join(' ')}`);
  if (values['no-socket'] === true && values.socket !== undefined) throw new UsageError('serve: --socket and --no-socket contradict each other');
  if (values['no-tcp'] === true && (values.host !== undefined || values.port !== undefined || values.tcp === true)) {
    throw new UsageError('serve: --no-tcp contradicts --tcp/--host/--port');
  }
  const wantTcp = values.tcp === true || values.host !== undefined || values.port !== undefined;
  let port = DEFAULT_PORT;
  if (values.port !== undefined) {
    if (!/^[0-9]{1,5}$/.test(values.port) || Number(values.port) > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535; got ${JSON.stringify(values.port)}`);
    port = Number(values.port);
  }
  const level = values['log-level'] ?? process.env.LOG_LEVEL ?? 'info';
  if (!(LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}; got ${JSON.stringify(level)}`);
  const budget = positiveInt('selftest-budget-ms', values['selftest-budget-ms'], 600_000);

  // A bad policy or knowledge base refuses to start, with the reason (UsageError: exit 2).
  const ctx = loadContext(values);
  const tlsFlags = [values['tls-cert'], values['tls-key'], values['tls-client-ca']].some((v) => v !== undefined);
  if (tlsFlags && !wantTcp) throw new UsageError('serve: --tls-cert/--tls-key/--tls-client-ca are for TCP (the unix socket is plain HTTP): add --tcp, --host or --port');
  let tls;
  try {
    tls = loadTlsFiles({ cert: values['tls-cert'], key: values['tls-key'], clientCa: values['tls-client-ca'] }, warnToStderr);
  } catch (err) {
    if (err instanceof TlsFilesError) throw new UsageError(`serve: ${err.message}`);
    throw err;
  }
  let auth;
  try {
    auth = serveAuth({ tcp: wantTcp, tokenFile: values['token-file'] ?? DEFAULT_TOKEN_FILE, socketGroup: values['socket-group'] }, warnToStderr);
  } catch (err) {
    if (err instanceof TokenFileError || err instanceof SocketGroupError) throw new UsageError(`serve: ${err.message}`);
    throw err;
  }
  try {
    return await runServer({
      policy: ctx.policy,
      knowledgeBase: ctx.knowledgeBase,
      stateDir: resolveStateDir(values['state-dir']),
      socketPath: values['no-socket'] === true ? null : (values.socket ?? DEFAULT_SOCKET_PATH),
      tcp: wantTcp ? { host: values.host ?? DEFAULT_HOST, port, tls } : null,
      auth,
      allowRemote: values['allow-remote'] === true,
      logger: defaultLoggerOptions(level),
      ...(budget !== undefined ? { selftest: { budget_ms: budget } } : {}),
      stop,
    });
  } catch (err) {
    if (err instanceof ServeConfigError) throw new UsageError(`serve: ${err.message}`);
    throw err;
  }
}
