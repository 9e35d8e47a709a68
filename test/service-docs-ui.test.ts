// /docs is loaded on its first request (docs-ui.ts): nothing of the UI is in memory before, and
// every answer is the one @fastify/swagger-ui registered eagerly gives for the same document.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, test } from 'node:test';
import fastifySwagger, { type StaticDocumentSpec } from '@fastify/swagger';
import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse } from 'fastify';
import { loadKnowledgeBase } from '../policies/knowledge-base.js';
import { defaultPolicy } from '../policies/operator-policy.js';
import { probeKernel } from '../probes/kernel.js';
import { buildApp } from '../service/http/app.js';
import { ServiceState } from '../service/http/state.js';

let base: string;
let app: FastifyInstance;
before(async () => {
  base = mkdtempSync(path.join('/var/tmp', 'xfsguard-docs-ui-'));
  const root = path.join(base, 'images');
  mkdirSync(root);
  const state = new ServiceState();
  app = await buildApp({ policy: { ...defaultPolicy(), allowed_roots: [root], source: 'test' }, knowledgeBase: loadKnowledgeBase(), stateDir: path.join(base, 'state'), state });
  await app.ready();
  state.markReady(await probeKernel(), [], null);
});
after(async () => {
  await app.close();
  rmSync(base, { recursive: true, force: true });
});

const loaded = (pkg: string) => Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes(`/node_modules/${pkg}/`));

test('the UI is not loaded at start-up, nor by API requests; the first /docs request loads it', async () => {
  assert.equal((await app.inject({ url: '/openapi.json' })).statusCode, 200);
  assert.equal((await app.inject({ url: '/livez' })).statusCode, 200);
  assert.equal(loaded('@fastify/static'), false, '@fastify/static loaded before any /docs request');
  assert.equal(loaded('@fastify/swagger-ui'), false, '@fastify/swagger-ui loaded before any /docs request');
  const r = await app.inject({ url: '/docs' });
  assert.equal(r.statusCode, 200);
  assert.match(r.body, /swagger/i);
  assert.ok(r.headers['x-request-id'], 'the main app answers: X-Request-Id');
  assert.equal(loaded('@fastify/static'), true);
});

/** The same document served by @fastify/swagger-ui registered at start-up, as before. */
async function eager(): Promise<FastifyInstance> {
  // imported here, not at the top: the first test checks that nothing loaded it yet
  const { default: fastifySwaggerUi } = await import('@fastify/swagger-ui');
  const ref = Fastify({ logger: false, routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 } });
  await ref.register(fastifySwagger, { mode: 'static', specification: { document: app.swagger() as StaticDocumentSpec['document'] } });
  await ref.register(fastifySwaggerUi, { routePrefix: '/docs' });
  await ref.ready();
  return ref;
}

const SAME_HEADERS = ['content-type', 'content-length', 'location', 'etag', 'last-modified', 'cache-control', 'accept-ranges', 'content-range'];

function same(ours: LightMyRequestResponse, theirs: LightMyRequestResponse, what: string): void {
  assert.equal(ours.statusCode, theirs.statusCode, `${what}: status`);
  for (const h of SAME_HEADERS) assert.equal(ours.headers[h], theirs.headers[h], `${what}: ${h}`);
  assert.ok(ours.rawPayload.equals(theirs.rawPayload), `${what}: body`);
}

test('every /docs answer is the one swagger-ui registered at start-up gives', async (t) => {
  const ref = await eager();
  t.after(() => ref.close());
  const asks: InjectOptions[] = [
    { url: '/docs' },
    { url: '/docs/' },
    { url: '/docs/json' },
    { url: '/docs/yaml' },
    { url: '/docs/static/index.html' },
    { url: '/docs/static/swagger-initializer.js' },
    { url: '/docs/static/swagger-ui.css' },
    { url: '/docs/static/swagger-ui-bundle.js' },
    { url: '/docs/static/logo.svg' },
    { url: '/docs/static/swagger-ui.css', headers: { range: 'bytes=0-99' } },
    { method: 'HEAD', url: '/docs/static/swagger-ui.css' },
    { method: 'HEAD', url: '/docs' },
    { method: 'HEAD', url: '/docs/json' },
  ];
  for (const ask of asks) same(await app.inject(ask), await ref.inject(ask), `${ask.method ?? 'GET'} ${ask.url as string} ${JSON.stringify(ask.headers ?? {})}`);
  // a cached copy: 304 on its ETag
  const first = await app.inject({ url: '/docs/static/swagger-ui.css' });
  const etag = String(first.headers.etag);
  same(await app.inject({ url: '/docs/static/swagger-ui.css', headers: { 'if-none-match': etag } }), await ref.inject({ url: '/docs/static/swagger-ui.css', headers: { 'if-none-match': etag } }), 'If-None-Match');
  assert.equal((await app.inject({ url: '/docs/static/swagger-ui.css', headers: { 'if-none-match': etag } })).statusCode, 304);
});

test('a missing file is the service\'s own 404 problem; another method on a UI route is 405; the UI\'s errors are the service\'s problems', async () => {
  const missing = await app.inject({ url: '/docs/static/nope.js' });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.headers['content-type'], 'application/problem+json; charset=utf-8');
  assert.equal(missing.json<{ code: string }>().code, 'not_found');
  const post = await app.inject({ method: 'POST', url: '/docs/json', payload: {} });
  assert.equal(post.statusCode, 405);
  assert.equal(post.json<{ code: string }>().code, 'method_not_allowed');
  // @fastify/static refuses the range with an error: the main app's error handler answers it
  const range = await app.inject({ url: '/docs/static/swagger-ui.css', headers: { range: 'bytes=999999999-' } });
  assert.equal(range.statusCode, 416);
  assert.equal(range.headers['content-type'], 'application/problem+json; charset=utf-8');
  assert.equal(range.json<{ status: number }>().status, 416);
  assert.ok(range.headers['x-request-id']);
});
