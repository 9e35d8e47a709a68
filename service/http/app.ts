// The HTTP decision service as a Fastify instance that does not listen (server.ts does):
// zod-typed routes with an OpenAPI document generated from their schemas, one error format
// ({code, message}), Prometheus metrics, and the judging flow shared with the CLI.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import {
  createJsonSchemaTransform,
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { Socket } from 'node:net';
import type { KnowledgeBase } from '../../policies/knowledge-base-schema.js';
import { isUnderAllowedRoots, isUnderPrefix, type OperatorPolicy } from '../../policies/operator-policy.js';
import { probeFilesystem } from '../../probes/filesystem.js';
import { FilesystemFactsCache } from '../../probes/filesystem-cache.js';
import { PathInputError, checkPathInput } from '../../probes/path-input.js';
import { SelfTestSingleFlight, type SelfTestOptions } from '../../probes/selftest.js';
import type { FilesystemFacts, KernelFacts, SelfTestReport } from '../../probes/types.js';
import { judge, selfTestAndStore, type JudgeContext, type JudgeRequest, type Judgement } from '../judge.js';
import { XFSGUARD_VERSION } from '../package-info.js';
import { ServiceMetrics } from './metrics.js';
import decisionRoutes from './routes/decision.js';
import healthRoutes from './routes/health.js';
import hostRoutes from './routes/host.js';
import metricsRoutes from './routes/metrics.js';
import selfTestRoutes from './routes/selftest.js';
import { MemoryBackedCache, ServiceState } from './state.js';

/** An error answered as `{code, message}` with its status. */
/**
 * Decisions reuse a path's filesystem facts and the mount table this long (each reuse checked by
 * one statfs): a remount or a path created meanwhile shows after at most this.
 */
const FACTS_MAX_AGE_MS = 1000;

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class PathNotAllowedError extends ApiError {
  constructor(message: string) {
    super(403, 'path_not_allowed', message);
  }
}

export interface ServiceLimits {
  /** Largest request body accepted (413 beyond). */
  bodyLimit: number;
  /** Self-test requests accepted per rateWindowMs, for all clients together. */
  selftestRateMax: number;
  selftestRateWindowMs: number;
  /** Whole request (headers and body) must arrive within this (408 after). */
  requestTimeoutMs: number;
  /** Headers must arrive within this (408 after). */
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** How often Node checks requestTimeout/headersTimeout. */
  connectionsCheckingIntervalMs: number;
  /** A filesystem probe (realpath, stat, statfs of a requested path) must answer within this (504 after). */
  probeTimeoutMs: number;
  /**
   * Probes past their deadline each still hold a libuv thread-pool thread (a hung FUSE or NFS
   * mount): with this many stuck, new probes would only queue, so they are refused (503).
   */
  maxStuckProbes: number;
}

export const DEFAULT_LIMITS: ServiceLimits = {
  bodyLimit: 16 * 1024,
  selftestRateMax: 6,
  selftestRateWindowMs: 60_000,
  requestTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  keepAliveTimeoutMs: 5_000,
  connectionsCheckingIntervalMs: 1_000,
  // below the probe's own 5 s statfs limit, so a hang is always answered here (504, not 500)
  probeTimeoutMs: 4_000,
  maxStuckProbes: Math.max(1, Number(process.env.UV_THREADPOOL_SIZE) || 4),
};

export interface AppDeps {
  policy: OperatorPolicy;
  knowledgeBase: KnowledgeBase;
  /** The state directory where self-test results are stored. */
  stateDir: string;
  /** In-memory state; markReady() it (server.ts does) before decisions are served. */
  state?: ServiceState;
  metrics?: ServiceMetrics;
  /** Fastify logger options (false: silent), or a pino instance via loggerInstance. */
  logger?: FastifyServerOptions['logger'];
  loggerInstance?: FastifyServerOptions['loggerInstance'];
  /** Aborted at shutdown: running self-tests are cancelled. */
  shutdownSignal?: AbortSignal;
  /** Defaults for self-tests this service runs (decision with selftest=auto, POST /v1/selftest). */
  selftest?: Pick<SelfTestOptions, 'budget_ms' | 'iterations' | 'max_bytes'>;
  limits?: Partial<ServiceLimits>;
  /** Whether the native addon loaded (server.ts tries once). */
  native?: { available: boolean; error: string | null };
  /** Replaceable for tests; default the shared judging flow. */
  judge?: (req: JudgeRequest, ctx: JudgeContext) => Promise<Judgement>;
  /** Replaceable for tests; default selfTestAndStore (runs the native race, stores the result). */
  selfTest?: (fs: FilesystemFacts, kernel: KernelFacts, ctx: JudgeContext, options: SelfTestOptions) => Promise<SelfTestReport>;
  probeFilesystem?: (absolute: string) => Promise<FilesystemFacts>;
}


/**
 * Every filesystem probe a request makes goes through here (its errno failures arrive as
 * PathInputError, answered 4xx by the error handler): a probe that does not answer within the deadline (a hung FUSE or NFS
 * mount: realpath/stat block in the thread pool, with no timeout of their own) is answered 504
 * instead of hanging the request. Such a probe still holds a thread-pool thread until the kernel
 * lets go; they are counted, and once they could hold every thread, new probes are refused at
 * once (503) rather than queued behind them.
 */
export class ProbeGuard {
  private stuckCount = 0;

  constructor(
    private readonly timeoutMs: number,
    readonly maxStuck: number,
    private readonly onStuck: (path: string, timeoutMs: number) => void = () => undefined,
  ) {}

  /** Probes past their deadline that have not returned yet. */
  get stuck(): number {
    return this.stuckCount;
  }

  get stalled(): boolean {
    return this.stuckCount >= this.maxStuck;
  }

  wrap(probe: (absolute: string) => Promise<FilesystemFacts>): (absolute: string) => Promise<FilesystemFacts> {
    return (absolute) => this.run(absolute, probe);
  }

  private async run(absolute: string, probe: (absolute: string) => Promise<FilesystemFacts>): Promise<FilesystemFacts> {
    if (this.stalled) {
      throw new ApiError(503, 'probes_stalled', `${this.stuckCount} filesystem probes have not returned (a hung mount?): no new probe is started until they do`);
    }
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const pending = probe(absolute);
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        this.stuckCount += 1;
        this.onStuck(absolute, this.timeoutMs);
        reject(new ApiError(504, 'path_unresponsive', `the filesystem at ${absolute} did not answer within ${this.timeoutMs} ms (a hung FUSE or network mount?)`));
      }, this.timeoutMs);
    });
    pending
      .finally(() => {
        clearTimeout(timer);
        if (timedOut) this.stuckCount -= 1;
      })
      .catch(() => undefined);
    return await Promise.race([pending, deadline]);
  }
}

/**
 * One self-test per filesystem at a time, and none outside the allowed roots: the check is made on
 * the facts the self-test is about to use, so no path resolution race can move it elsewhere.
 */
class AllowedRootsSingleFlight extends SelfTestSingleFlight {
  constructor(private readonly policy: OperatorPolicy) {
    super();
  }

  override run(fs: FilesystemFacts, start: () => Promise<SelfTestReport>): { report: Promise<SelfTestReport>; joined: boolean } {
    if (!isUnderAllowedRoots(fs.judged_directory, this.policy)) {
      return { report: Promise.reject(notAllowed(fs.requested_path, fs.judged_directory, this.policy)), joined: false };
    }
    return super.run(fs, start);
  }
}

function notAllowed(requested: string, resolved: string | null, policy: OperatorPolicy): PathNotAllowedError {
  const via = resolved !== null && resolved !== requested ? ` (it resolves to ${resolved})` : '';
  return new PathNotAllowedError(`${requested}${via} is outside the allowed roots of the policy (${policy.allowed_roots.join(', ') || 'none'})`);
}

/** What the routes use: the judging flow bound to the service's state, policy and limits. */
export class XfsguardService {
  readonly state: ServiceState;
  readonly metrics: ServiceMetrics;
  readonly policy: OperatorPolicy;
  readonly knowledgeBase: KnowledgeBase;
  readonly native: { available: boolean; error: string | null };
  readonly singleFlight: AllowedRootsSingleFlight;
  private readonly cache: MemoryBackedCache;
  private readonly judgeFn: NonNullable<AppDeps['judge']>;
  private readonly selfTestFn: NonNullable<AppDeps['selfTest']>;
  readonly probeFilesystem: NonNullable<AppDeps['probeFilesystem']>;
  private readonly selftestDefaults: SelfTestOptions;
  private ctx: JudgeContext | null = null;
  /** Facts for decisions; self-tests probe afresh (this.probeFilesystem). */
  private readonly decisionProbe: (absolute: string) => Promise<FilesystemFacts>;
  readonly probes: ProbeGuard;
  warn: (message: string) => void = () => undefined;
  error: (message: string) => void = () => undefined;

  constructor(deps: AppDeps) {
    this.state = deps.state ?? new ServiceState();
    this.metrics = deps.metrics ?? new ServiceMetrics(this.state);
    this.policy = deps.policy;
    this.knowledgeBase = deps.knowledgeBase;
    this.native = deps.native ?? { available: true, error: null };
    this.singleFlight = new AllowedRootsSingleFlight(deps.policy);
    this.cache = new MemoryBackedCache(deps.stateDir, this.state, (m) => this.warn(m));
    this.judgeFn = deps.judge ?? judge;
    this.selfTestFn = deps.selfTest ?? selfTestAndStore;
    const limits = { ...DEFAULT_LIMITS, ...deps.limits };
    this.probes = new ProbeGuard(limits.probeTimeoutMs, limits.maxStuckProbes, (p, ms) =>
      this.error(`the filesystem probe of ${p} has not returned after ${ms} ms (a hung mount?); it holds a thread-pool thread until it does`),
    );
    this.probeFilesystem = this.probes.wrap(deps.probeFilesystem ?? ((p) => probeFilesystem(p, { mountTableMaxAgeMs: FACTS_MAX_AGE_MS })));
    const facts = new FilesystemFactsCache({ ttlMs: FACTS_MAX_AGE_MS });
    this.decisionProbe = this.probes.wrap(deps.probeFilesystem ?? ((p) => facts.probe(p)));
    this.metrics.watchProbes(this.probes);
    this.selftestDefaults = { ...deps.selftest, ...(deps.shutdownSignal ? { signal: deps.shutdownSignal } : {}) };
  }

  /** The judging context; only once ready (the kernel is probed at start-up). */
  context(): JudgeContext {
    const reason = this.state.notReadyReason();
    if (reason !== null || this.state.kernel === null) throw new ApiError(503, 'not_ready', `not ready: ${reason ?? 'no kernel facts'}`);
    this.ctx ??= {
      policy: this.policy,
      knowledgeBase: this.knowledgeBase,
      cache: this.cache,
      kernel: this.state.kernel,
      singleFlight: this.singleFlight,
      onSelfTest: (report) => {
        this.state.put(report);
        this.metrics.selftestFinished(report);
      },
      warn: (m) => this.warn(m),
      probeFilesystem: this.decisionProbe,
      // The self-test writes a scratch file: never outside the allowed roots.
      selfTestAllowed: (fs) => isUnderAllowedRoots(fs.judged_directory, this.policy),
    };
    return this.ctx;
  }

  /** A path from a request: well-formed, absolute, and under the allowed roots as given. */
  checkPath(input: string): string {
    const p = checkPathInput(input, { requireAbsolute: true });
    if (!isUnderAllowedRoots(p, this.policy)) throw notAllowed(p, null, this.policy);
    return p;
  }

  /** The resolved judged directory must be under the allowed roots too (no escape by symlink). */
  checkResolved(fs: FilesystemFacts): void {
    if (!isUnderAllowedRoots(fs.judged_directory, this.policy)) throw notAllowed(fs.requested_path, fs.judged_directory, this.policy);
  }

  /**
   * A decision may also be about a path whose allowed root does not exist yet (a fresh host asked
   * about /var/lib/libvirt/images before libvirt made it): then the judged directory is an
   * existing ancestor of that root, looked at with statfs only — judge() runs no self-test outside
   * the roots. A symlink cannot lead elsewhere: the ancestor must be one of the root's own parents.
   */
  checkResolvedForDecision(fs: FilesystemFacts): void {
    if (isUnderAllowedRoots(fs.judged_directory, this.policy)) return;
    const aboveMissingRoot =
      fs.path_kind === 'missing' &&
      this.policy.allowed_roots.some((r) => isUnderPrefix(fs.requested_path, r) && isUnderPrefix(r, fs.judged_directory));
    if (!aboveMissingRoot) throw notAllowed(fs.requested_path, fs.judged_directory, this.policy);
  }

  async decide(path: string, ioMode: JudgeRequest['io_mode'], selftest: 'auto' | 'never'): Promise<Judgement> {
    const ctx = this.context();
    const judgement = await this.judgeFn({ path, io_mode: ioMode, selftest, selftestOptions: this.selftestDefaults }, ctx);
    this.checkResolvedForDecision(judgement.filesystem);
    return judgement;
  }

  /** Runs a self-test on the filesystem, or joins the one running there. */
  async selfTest(fs: FilesystemFacts, options: SelfTestOptions): Promise<{ report: SelfTestReport; joined: boolean }> {
    const ctx = this.context();
    this.checkResolved(fs);
    // selfTestAndStore enters the single-flight synchronously, so this tells whether it joins.
    const joined = this.singleFlight.isRunning(fs.device);
    const report = await this.selfTestFn(fs, ctx.kernel!, ctx, { ...this.selftestDefaults, ...options });
    return { report, joined };
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The error code answered, for the request log line. */
    errorCode: string | null;
  }
}

const OPENAPI_HIDDEN = ['/docs', '/docs/', '/docs/json', '/docs/yaml', '/docs/static/*', '/docs/initOAuth', '/docs/uiConfig', '/openapi.json', '/metrics'];

/** Statuses Fastify's own errors map to, with our code. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'empty_body',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_content_length',
  FST_ERR_CTP_INVALID_TYPE: 'unsupported_media_type',
  FST_ERR_BAD_URL: 'bad_url',
};

/** Codes for other 4xx errors thrown by Fastify or its plugins, by status. */
const STATUS_CODES: Record<number, string> = {
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  413: 'body_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/** Turns a zod validation failure into one readable sentence naming each field. */
function describeValidation(err: FastifyError): { code: string; message: string } {
  const where = err.validationContext ?? 'request';
  const issues = err.validation ?? [];
  const parts: string[] = [];
  let code = where === 'body' ? 'invalid_body' : where === 'querystring' ? 'invalid_query' : 'invalid_request';
  for (const issue of issues) {
    const field = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const params = issue.params as { keys?: string[] };
    if (issue.keyword === 'unrecognized_keys' && Array.isArray(params.keys)) {
      const what = where === 'querystring' ? 'query parameter' : 'field';
      parts.push(`unknown ${what}${params.keys.length > 1 ? 's' : ''}: ${params.keys.join(', ')}`);
      if (issues.length === 1) code = where === 'querystring' ? 'unknown_query_parameter' : 'unknown_field';
    } else if (field === 'path' && issue.keyword === 'invalid_type' && /received undefined/.test(issue.message ?? '')) {
      parts.push('path: a path is required');
      if (issues.length === 1) code = 'path_missing';
    } else {
      const message = issue.message ?? 'invalid';
      parts.push(field === '' ? message : `${field}: ${message}`);
    }
  }
  if (where === 'body' && issues.length === 0) parts.push('the body does not match the schema');
  return { code, message: `${where === 'querystring' ? 'query' : where}: ${parts.join('; ')}` };
}

function pathInputStatus(err: PathInputError): number {
  switch (err.code) {
    case 'path_permission':
      return 403;
    case 'path_unavailable':
      return 422;
    case 'path_unresponsive':
      return 504;
    default:
      return 400;
  }
}

function errorBody(request: FastifyRequest, statusCode: number, code: string, message: string) {
  request.errorCode = code;
  return statusCode >= 500 ? { code, message, request_id: request.id } : { code, message };
}

function errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  let status: number;
  let code: string;
  let message: string;
  if (err instanceof ApiError) {
    ({ statusCode: status, code, message } = err);
  } else if (err instanceof PathInputError) {
    status = pathInputStatus(err);
    code = err.code;
    message = err.message;
  } else if (hasZodFastifySchemaValidationErrors(err) || err.validation !== undefined) {
    status = 400;
    ({ code, message } = describeValidation(err));
  } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    status = err.statusCode;
    code = FASTIFY_CODES[err.code] ?? (err instanceof SyntaxError ? 'malformed_json' : (STATUS_CODES[status] ?? 'bad_request'));
    message = err.message;
    if (code === 'unsupported_media_type') {
      const type = request.headers['content-type'];
      message = `${type === undefined || type === '' ? 'no Content-Type' : `Content-Type ${JSON.stringify(type.slice(0, 100))}`} is not supported: send the body as application/json`;
    }
  } else {
    request.log.error({ err, reqId: request.id }, 'internal error');
    status = 500;
    code = 'internal';
    message = 'internal error; the request id names it in the service log';
  }
  if (status === 503 && code === 'not_ready') void reply.header('retry-after', '1');
  return reply.code(status).send(errorBody(request, status, code, message));
}

/** A raw-socket answer for what Node's HTTP parser rejects before Fastify sees a request. */
function clientErrorHandler(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let code = 'bad_request';
  let message = 'the request could not be parsed as HTTP/1.1';
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    code = 'request_timeout';
    message = 'the request was not received in time';
  } else if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    code = 'headers_too_large';
    message = 'the request headers are too large';
  }
  this.log.info({ code, status, err: { code: err.code, message: err.message } }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify({ code, message });
    socket.write(
      `HTTP/1.1 ${status} ${status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const limits: ServiceLimits = { ...DEFAULT_LIMITS, ...deps.limits };
  const svc = new XfsguardService(deps);
  let handler: http.RequestListener | null = null;
  const serverOptions: http.ServerOptions = {
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.connectionsCheckingIntervalMs,
  };
  const app = Fastify({
    ...(deps.loggerInstance !== undefined ? { loggerInstance: deps.loggerInstance } : { logger: deps.logger ?? false }),
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    bodyLimit: limits.bodyLimit,
    // One request handler, several servers: the primary one Fastify listens with, and one more
    // per extra address (server.ts listens on a unix socket and on loopback).
    serverFactory: (h) => {
      handler = h;
      return http.createServer(serverOptions, h);
    },
    forceCloseConnections: 'idle',
    clientErrorHandler,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    frameworkErrors: (error, request, reply) => {
      const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      const code = FASTIFY_CODES[error.code] ?? 'bad_request';
      // Rejected before routing: the onResponse hook does not run, so the line is logged here.
      request.log.info({ method: request.method, url: request.url.slice(0, 300), statusCode: status, code }, 'request rejected');
      void (reply as FastifyReply).code(status).send(errorBody(request, status, code, error.message));
    },
  });
  app.decorate('createExtraServer', (): http.Server => {
    if (handler === null) throw new Error('the Fastify server was not created');
    const server = http.createServer(serverOptions, handler);
    server.on('clientError', clientErrorHandler.bind(app));
    return server;
  });
  svc.warn = (message) => app.log.warn(message);
  svc.error = (message) => app.log.error(message);
  app.decorateRequest('errorCode', null);

  // Which methods each URL answers, for 405 rather than 404.
  const methodsByUrl = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const set = methodsByUrl.get(route.url) ?? new Set<string>();
    for (const m of methods) set.add(m);
    methodsByUrl.set(route.url, set);
  });

  app.setErrorHandler(errorHandler);

  // One log line per request: what went wrong at info (4xx) or error (5xx), the rest at debug.
  app.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const route = request.routeOptions.url ?? 'unmatched';
    svc.metrics.requestDuration.observe({ method: request.method, route, status_code: String(status) }, reply.elapsedTime / 1000);
    const line = {
      method: request.method,
      url: request.url.length > 300 ? `${request.url.slice(0, 300)}…` : request.url,
      statusCode: status,
      ms: Math.round(reply.elapsedTime * 100) / 100,
      ...(request.errorCode !== null ? { code: request.errorCode } : {}),
    };
    if (status >= 500) request.log.error(line, 'request failed');
    else if (status >= 400) request.log.info(line, 'request rejected');
    else request.log.debug(line, 'request completed');
    done();
  });

  await app.register(fastifyRateLimit, { global: false });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'xfsguard',
        version: XFSGUARD_VERSION,
        description:
          "Tells whether QEMU's workaround for the XFS fallocate vs in-flight AIO+DIO size race must be enabled for VM images at a path, from the filesystem, the kernel and a live self-test.",
      },
    },
    transform: createJsonSchemaTransform({ skipList: OPENAPI_HIDDEN }),
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  // The zod routes live in a child context with the zod compilers (ecosystem.md §3.2).
  await app.register(async (api) => {
    api.setValidatorCompiler(validatorCompiler);
    api.setSerializerCompiler(serializerCompiler);
    // JSON bodies only: anything else is 415, not a string for the schema to reject.
    api.removeContentTypeParser(['text/plain']);
    await api.register(decisionRoutes, { svc });
    await api.register(selfTestRoutes, { svc, limits });
    await api.register(hostRoutes, { svc });
    await api.register(healthRoutes, { svc });
  });
  await app.register(metricsRoutes, { svc });

  app.setNotFoundHandler((request, reply) => {
    const url = request.url.split('?', 1)[0] ?? '/';
    const allowed = methodsByUrl.get(url);
    if (allowed !== undefined && !allowed.has(request.method)) {
      const allow = [...allowed].sort().join(', ');
      return reply
        .code(405)
        .header('allow', allow)
        .send(errorBody(request, 405, 'method_not_allowed', `${request.method} is not supported on ${url}; use ${allow}`));
    }
    return reply.code(404).send(errorBody(request, 404, 'not_found', `no route ${request.method} ${url.length > 200 ? `${url.slice(0, 200)}…` : url}`));
  });

  app.decorate('xfsguard', svc);
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    xfsguard: XfsguardService;
    /** Another HTTP server with the same handler, timeouts and client-error answers (listen on it yourself). */
    createExtraServer(): http.Server;
  }
}
