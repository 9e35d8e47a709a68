// The API contract: the OpenAPI document passes Redocly's recommended rules, every operation and
// response is described, one schema per type, and the service answers as documented (RFC 9457
// problems, X-Request-Id, health format, host distro from the kernel probe).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadKnowledgeBase } from '../policies/knowledge-base.js';
import { defaultPolicy } from '../policies/operator-policy.js';
import { probeKernel } from '../probes/kernel.js';
import { buildApp } from '../service/http/app.js';
import { ServiceState } from '../service/http/state.js';
import { REPO_ROOT } from './helpers/run-cli.js';

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  responses: Record<string, { description: string; content?: Record<string, { schema: { $ref?: string } }> }>;
}
interface Doc {
  info: { license?: { name: string; identifier?: string } };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

let base: string;
let root: string;
before(() => {
  base = mkdtempSync(path.join('/var/tmp', 'xfsguard-openapi-'));
  root = path.join(base, 'images');
  mkdirSync(root);
});
after(() => rmSync(base, { recursive: true, force: true }));

async function app(t: TestContext): Promise<FastifyInstance> {
  const state = new ServiceState();
  const a = await buildApp({ policy: { ...defaultPolicy(), allowed_roots: [root], source: 'test' }, knowledgeBase: loadKnowledgeBase(), stateDir: path.join(base, 'state'), state });
  await a.ready();
  state.markReady(await probeKernel(), [], { hostname: 'h', arch: 'x64', platform: 'linux', distro: { id: null, version_id: '12', pretty_name: 'Debian GNU/Linux', id_like: [] }, note: null });
  t.after(() => a.close());
  return a;
}

async function openapi(t: TestContext): Promise<Doc> {
  return (await (await app(t)).inject({ url: '/openapi.json' })).json<Doc>();
}

test('OpenAPI: operationId, summary and description on every operation; every response described; a 4xx on each; license', async (t) => {
  const doc = await openapi(t);
  assert.deepEqual(doc.info.license, { name: 'MIT', identifier: 'MIT' });
  const ids = new Set<string>();
  for (const [p, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const where = `${method.toUpperCase()} ${p}`;
      assert.match(op.operationId ?? '', /^[a-z][A-Za-z]+$/, `${where} operationId`);
      assert.ok(!ids.has(op.operationId!), `${where}: unique operationId`);
      ids.add(op.operationId!);
      assert.ok((op.summary ?? '').length > 10 && (op.description ?? '').length > 20, `${where}: summary and description`);
      assert.ok(Object.keys(op.responses).some((s) => /^4\d\d$/.test(s)), `${where}: a 4xx response`);
      for (const [status, r] of Object.entries(op.responses)) {
        assert.ok(r.description.length > 5 && r.description !== 'Default Response', `${where} ${status}: a real description`);
        if (/^[45]/.test(status) && !(p === '/readyz' && status === '503')) {
          assert.deepEqual(Object.keys(r.content ?? {}), ['application/problem+json'], `${where} ${status}`);
        }
      }
    }
  }
  assert.equal(ids.size, 5);
});

test('OpenAPI: one schema per type (no Input twins), livez and readyz share the Health schema', async (t) => {
  const doc = await openapi(t);
  const names = Object.keys(doc.components.schemas);
  assert.deepEqual(names.filter((n) => n.endsWith('Input')), [], names.join(', '));
  for (const n of ['Decision', 'Problem', 'Remedy', 'Health', 'Host', 'SelfTestResponse']) assert.ok(names.includes(n), n);
  const health = (p: string) => doc.paths[p]!.get!.responses['200']!.content!['application/health+json']!.schema.$ref;
  assert.equal(health('/livez'), '#/components/schemas/Health');
  assert.equal(health('/readyz'), '#/components/schemas/Health');
});

test('OpenAPI: @redocly/cli lint with the recommended rules reports nothing', async (t) => {
  const bin = path.join(REPO_ROOT, 'node_modules', '.bin', 'redocly');
  if (!existsSync(bin)) {
    t.skip('@redocly/cli is not installed (npm install)');
    return;
  }
  const file = path.join(base, 'openapi.json');
  writeFileSync(file, JSON.stringify(await openapi(t)));
  const r = spawnSync(bin, ['lint', '--extends', 'recommended', '--format', 'stylish', file], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  const out = `${r.stdout}${r.stderr}`;
  assert.equal(r.status, 0, out);
  assert.match(out, /Your API description is valid/, out);
  assert.doesNotMatch(out, /You have \d+ warnings?|\d+ errors?/i, out);
});

test('errors are RFC 9457 problems keeping code; every answer has X-Request-Id; decisions no-store', async (t) => {
  const a = await app(t);
  const bad = await a.inject({ url: '/v1/decision?path=relative' });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.headers['content-type'] as string, /^application\/problem\+json/);
  const p = bad.json<{ type: string; title: string; status: number; detail: string; code: string; message: string }>();
  assert.equal(p.status, 400);
  assert.equal(p.title, 'Bad Request');
  assert.equal(p.type, `urn:xfsguard:problem:${p.code}`);
  assert.equal(p.detail, p.message);
  const missing = await a.inject({ url: '/nope' });
  assert.equal(missing.statusCode, 404);
  assert.match(missing.headers['content-type'] as string, /^application\/problem\+json/);
  for (const r of [bad, missing, await a.inject({ url: '/livez' })]) assert.match(String(r.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  const d = await a.inject({ url: `/v1/decision?path=${encodeURIComponent(root)}&selftest=never` });
  assert.equal(d.statusCode, 200, d.body);
  assert.equal(d.headers['cache-control'], 'no-store');
  const body = d.json<{ decision_id: string; decided_at: string; remedies: unknown[] }>();
  assert.equal(d.headers['x-request-id'], body.decision_id);
  assert.ok(Number.isFinite(Date.parse(body.decided_at)));
  assert.ok(Array.isArray(body.remedies));
});

test('/livez and /readyz answer in one health format; /v1/host\'s distro is the kernel probe\'s', async (t) => {
  const a = await app(t);
  const live = await a.inject({ url: '/livez' });
  const ready = await a.inject({ url: '/readyz' });
  for (const r of [live, ready]) {
    assert.equal(r.statusCode, 200);
    assert.match(r.headers['content-type'] as string, /^application\/health\+json/);
    assert.deepEqual(Object.keys(r.json<object>()).sort(), ['checks', 'status', 'version']);
  }
  const host = (await a.inject({ url: '/v1/host' })).json<{ kernel: { distro: unknown }; host: { distro: unknown } }>();
  assert.deepEqual(host.host.distro, host.kernel.distro);
});
