// The HTTP decision service as a Fastify instance that does not listen (server.ts does): assembles
// the service (service.ts), the error answers (error-mapping.ts), the request log, the OpenAPI
// document and the zod-typed routes.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { authHook, type AuthConfig } from './auth.js';
import { clientErrorHandler, errorHandler, frameworkErrorHandler, notFoundHandler } from './error-mapping.js';
import { DEFAULT_LIMITS, type ServiceLimits } from './limits.js';
import { registerOpenApi } from './openapi.js';
import { RAW_SERVER_OPTIONS, answerConnect, hostHeaderHook } from './raw-requests.js';
import { requestLogHook } from './request-log.js';
import decisionRoutes from './routes/decision.js';
import healthRoutes from './routes/health.js';
import hostRoutes from './routes/host.js';
import metricsRoutes from './routes/metrics.js';
import selfTestRoutes from './routes/selftest.js';
import { XfsguardService, type ServiceDeps } from './service.js';

export interface AppDeps extends ServiceDeps {
  /** Fastify logger options (false: silent), or a pino instance via loggerInstance. */
  logger?: FastifyServerOptions['logger'];
  loggerInstance?: FastifyServerOptions['loggerInstance'];
  /** Who may ask (token on TCP, peer credentials on the socket); absent: anyone who can connect. */
  auth?: AuthConfig;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const limits: ServiceLimits = { ...DEFAULT_LIMITS, ...deps.limits };
  const svc = new XfsguardService(deps);
  let handler: http.RequestListener | null = null;
  const serverOptions: http.ServerOptions = {
    ...RAW_SERVER_OPTIONS,
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
      const server = http.createServer(serverOptions, h);
      answerConnect(server);
      return server;
    },
    forceCloseConnections: 'idle',
    clientErrorHandler,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    frameworkErrors: frameworkErrorHandler,
  });
  app.decorate('createExtraServer', (): http.Server => {
    if (handler === null) throw new Error('the Fastify server was not created');
    const server = http.createServer(serverOptions, handler);
    server.on('clientError', clientErrorHandler.bind(app));
    answerConnect(server);
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
  // Every answer names its request (decisions: the decision id), to follow it into the journal.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onRequest', hostHeaderHook);
  if (deps.auth !== undefined) app.addHook('onRequest', authHook(deps.auth));
  app.addHook('onResponse', requestLogHook(svc.metrics));

  await app.register(fastifyRateLimit, { global: false });
  await registerOpenApi(app);

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

  app.setNotFoundHandler(notFoundHandler(methodsByUrl));

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
