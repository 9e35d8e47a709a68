// The /docs UI (@fastify/swagger-ui), loaded on its first request rather than at start-up: the UI
// plugin and @fastify/static (33 modules, ≈ 1.2 MB of heap) stay out of a service that nobody
// browses. The main app owns the same routes swagger-ui registers (so hooks, auth, 404/405 and the
// request log apply as before) and answers each from a private Fastify instance holding the real
// plugin and the main app's document (@fastify/swagger in static mode); that instance's errors and
// not-founds are answered by the main app's handlers.
import type { StaticDocumentSpec } from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The routes @fastify/swagger-ui 6 registers under its prefix, and their methods. */
const UI_ROUTES: readonly { url: string; methods: ('GET' | 'HEAD')[] }[] = [
  { url: '', methods: ['GET'] },
  { url: '/', methods: ['GET'] },
  { url: '/json', methods: ['GET'] },
  { url: '/yaml', methods: ['GET'] },
  { url: '/static/index.html', methods: ['GET'] },
  { url: '/static/swagger-initializer.js', methods: ['GET'] },
  // @fastify/static answers HEAD itself (the file's length, no body)
  { url: '/static/*', methods: ['HEAD', 'GET'] },
];

/** Connection-level headers of the private instance's answer, not the client's. */
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date']);
const FORWARD_ID = 'x-xfsguard-docs-forward';
const BODY_FRAMING = new Set(['content-length', 'transfer-encoding']);

type Outcome = { notFound: true } | { error: Error };

/** Registers /docs (or `prefix`) on `app`; the UI is loaded when the first of its routes is asked. */
export function registerDocsUi(app: FastifyInstance, prefix = '/docs'): void {
  let ui: Promise<FastifyInstance> | null = null;
  const outcomes = new Map<string, Outcome>();

  const load = async (): Promise<FastifyInstance> => {
    const [{ default: Fastify }, { default: swagger }, { default: swaggerUi }] = await Promise.all([
      import('fastify'),
      import('@fastify/swagger'),
      import('@fastify/swagger-ui'),
    ]);
    const inner = Fastify({ logger: false, routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 } });
    // The main app's document (final: the main app is ready), served as swagger-ui's /json and /yaml
    // (the 3.1 document that OpenAPIV3's type does not name; the plugin passes it through).
    await inner.register(swagger, { mode: 'static', specification: { document: app.swagger() as StaticDocumentSpec['document'] } });
    const idOf = (request: FastifyRequest) => String(request.headers[FORWARD_ID]);
    inner.setNotFoundHandler((request, reply) => {
      outcomes.set(idOf(request), { notFound: true });
      return reply.code(404).send();
    });
    inner.setErrorHandler((error: Error, request, reply) => {
      outcomes.set(idOf(request), { error });
      return reply.code(500).send();
    });
    await inner.register(swaggerUi, { routePrefix: prefix });
    await inner.ready();
    return inner;
  };

  /** `ownHead`: the route answers HEAD itself (static files); otherwise HEAD is Fastify's GET without a body. */
  const forward = (ownHead: boolean) => async (request: FastifyRequest, reply: FastifyReply) => {
    ui ??= load().catch((err: unknown) => {
      ui = null; // not kept: the next request tries again
      throw err;
    });
    const inner = await ui;
    const method = ownHead && request.method === 'HEAD' ? 'HEAD' : 'GET';
    // the client's headers (conditional requests, ranges), not the framing of a body it may have sent
    const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !BODY_FRAMING.has(name)));
    let res: Awaited<ReturnType<FastifyInstance['inject']>>;
    let outcome: Outcome | undefined;
    try {
      res = await inner.inject({ method, url: request.url, headers: { ...headers, [FORWARD_ID]: request.id } });
    } finally {
      outcome = outcomes.get(request.id);
      outcomes.delete(request.id);
    }
    if (outcome !== undefined && 'notFound' in outcome) return reply.callNotFound();
    if (outcome !== undefined) throw outcome.error;
    void reply.code(res.statusCode);
    for (const [name, value] of Object.entries(res.headers)) if (!NOT_FORWARDED.has(name) && value !== undefined) void reply.header(name, value);
    // no body (redirects, 304, HEAD): nothing to send, so Fastify adds no content type of its own
    return res.rawPayload.length === 0 ? reply.send() : reply.send(res.rawPayload);
  };

  for (const r of UI_ROUTES) app.route({ method: r.methods, url: `${prefix}${r.url}`, schema: { hide: true }, handler: forward(r.methods.includes('HEAD')) });
}
