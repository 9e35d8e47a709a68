// The HTTP service through app.inject(): every route, the access rules, bad input, errors, the
// self-test single-flight and rate limit. Real probes on temp directories; the self-test is a
// counting fake (the real one runs in service-xfs.test.ts).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadKnowledgeBase } from '../policies/knowledge-base.js';
import { defaultPolicy, type OperatorPolicy } from '../policies/operator-policy.js';
import { probeKernel } from '../probes/kernel.js';
import { pathErrorFromErrno } from '../probes/path-input.js';
import type { FilesystemFacts, KernelFacts, SelfTestReport } from '../probes/types.js';
import { judge, type JudgeContext } from '../service/judge.js';
import { buildApp, type AppDeps } from '../service/http/app.js';
import { decisionResponseSchema } from '../service/http/schemas.js';
import { ServiceState } from '../service/http/state.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let base: string;
let root: string;
let outside: string;
let kernel: KernelFacts;
let policy: OperatorPolicy;

before(async () => {
  base = mkdtempSync(path.join('/var/tmp', 'xfsguard-service-app-'));
  root = path.join(base, 'images');
  outside = path.join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(path.join(root, 'vm.qcow2'), '');
  symlinkSync(outside, path.join(root, 'escape'));
  kernel = await probeKernel();
  policy = { ...defaultPolicy(), allowed_roots: [root], source: 'test policy' };
});

after(() => rmSync(base, { recursive: true, force: true }));

function fakeReport(fs: FilesystemFacts, k: KernelFacts, cancelled = false): SelfTestReport {
  return {
    format_version: 1, outcome: cancelled ? 'unsupported' : 'not_reproduced', directory: fs.judged_directory, device: fs.device,
    fs_uuid: fs.fs_uuid, fs_type: fs.fs_type, kernel_release: k.release, boot_id: k.boot_id, started_at: new Date().toISOString(),
    duration_ms: 5, bytes_written: 0, iterations: cancelled ? 0 : 10, reproductions: 0, engines: ['aio'], modes: ['alloc'], runs: [],
    reason: cancelled ? 'the self-test was cancelled' : null,
  };
}

interface Harness {
  app: FastifyInstance;
  state: ServiceState;
  logs: Record<string, unknown>[];
  runs: { count: number; signals: (AbortSignal | undefined)[] };
}

/** A fake self-test with the single-flight and the store callback of the real selfTestAndStore. */
function fakeSelfTest(runs: Harness['runs'], delayMs: number): NonNullable<AppDeps['selfTest']> {
  return (fs, k, ctx: JudgeContext, options) =>
    ctx.singleFlight!.run(fs, async () => {
      runs.count += 1;
      runs.signals.push(options.signal);
      await new Promise((r) => setTimeout(r, delayMs));
      const report = fakeReport(fs, k, options.signal?.aborted === true);
      ctx.onSelfTest?.(report);
      return report;
    }).report;
}

async function harness(t: { after: (fn: () => Promise<void>) => void }, overrides: Partial<AppDeps> = {}, ready = true): Promise<Harness> {
  const logs: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const state = new ServiceState();
  const runs = { count: 0, signals: [] as (AbortSignal | undefined)[] };
  const app = await buildApp({
    policy,
    knowledgeBase: loadKnowledgeBase(),
    stateDir: path.join(base, 'state'),
    state,
    logger: { level: 'info', stream },
    selfTest: fakeSelfTest(runs, 150),
    ...overrides,
  });
  await app.ready();
  if (ready) state.markReady(kernel, []);
  t.after(() => app.close());
  return { app, state, logs, runs };
}

function q(p: string, extra = ''): string {
  return `/v1/decision?path=${encodeURIComponent(p)}${extra}`;
}

describe('health and readiness', () => {
  test('readyz is 503 until start-up is over, decisions too; livez is 200 throughout', async (t) => {
    const h = await harness(t, {}, false);
    let r = await h.app.inject({ url: '/readyz' });
    assert.equal(r.statusCode, 503);
    assert.equal(r.json<{ status: string }>().status, 'fail');
    assert.match(r.headers['content-type'] as string, /application\/health\+json/);
    r = await h.app.inject({ url: q(root) });
    assert.equal(r.statusCode, 503);
    assert.equal(r.json<{ code: string }>().code, 'not_ready');
    assert.equal((await h.app.inject({ url: '/livez' })).statusCode, 200);
    h.state.markReady(kernel, []);
    r = await h.app.inject({ url: '/readyz' });
    assert.equal(r.statusCode, 200);
    assert.equal(r.json<{ status: string }>().status, 'pass');
    assert.equal((await h.app.inject({ url: q(root, '&selftest=never') })).statusCode, 200);
  });

  test('readyz warns (200) without the native addon', async (t) => {
    const h = await harness(t, { native: { available: false, error: 'not built' } });
    const r = await h.app.inject({ url: '/readyz' });
    assert.equal(r.statusCode, 200);
    const body = r.json<{ status: string; checks: Record<string, { status: string; output?: string }> }>();
    assert.equal(body.status, 'warn');
    assert.match(body.checks.native_addon!.output!, /not built/);
  });
});

describe('GET /v1/decision', () => {
  test('the body is exactly what the response schema would write, fresh and reused facts alike', async (t) => {
    const h = await harness(t);
    for (let i = 0; i < 3; i++) {
      const r = await h.app.inject({ url: q(path.join(root, 'vm.qcow2'), '&selftest=never') });
      assert.equal(r.statusCode, 200);
      const body = r.json<unknown>();
      assert.deepEqual(decisionResponseSchema.encode(decisionResponseSchema.parse(body)), body);
      // byte for byte, though written once and spliced per request (decision-body.ts)
      assert.equal(r.body, JSON.stringify(decisionResponseSchema.encode(decisionResponseSchema.parse(body))));
      assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(r.headers['content-length'], String(Buffer.byteLength(r.body)));
    }
  });

  test('answers the check --json document plus decision_id and duration_ms, and logs the decision', async (t) => {
    const h = await harness(t);
    const file = path.join(root, 'vm.qcow2');
    const r = await h.app.inject({ url: q(file, '&aio=native&selftest=never') });
    assert.equal(r.statusCode, 200);
    const body = r.json<Record<string, unknown> & { decision_id: string; duration_ms: number; selftest_ran: boolean }>();
    assert.match(body.decision_id, UUID);
    assert.equal(typeof body.duration_ms, 'number');
    assert.equal(body.selftest_ran, false);
    // The same document as the CLI's judge() output.
    const { decision } = await judge({ path: file, io_mode: 'native', selftest: 'never' }, {
      policy, knowledgeBase: loadKnowledgeBase(), cache: { read: () => Promise.resolve(null) } as unknown as JudgeContext['cache'], kernel,
    });
    const { decision_id, duration_ms, selftest_ran, ...served } = body;
    assert.equal(r.headers['x-request-id'], decision_id, 'X-Request-Id is the decision id');
    assert.equal(r.headers['cache-control'], 'no-store');
    const strip = (d: unknown) => {
      const c = JSON.parse(JSON.stringify(d)) as { decision_id?: string; decided_at?: string; evidence: { filesystem: { free_bytes?: number } } };
      delete c.evidence.filesystem.free_bytes;
      delete c.decision_id;
      delete c.decided_at;
      return c;
    };
    assert.deepEqual(strip(served), strip(decision));
    void duration_ms;
    void selftest_ran;
    const line = h.logs.find((l) => l.msg === 'decision');
    assert.ok(line, 'a decision log line');
    assert.equal(line.decision_id, decision_id);
    assert.equal(line.reqId, decision_id, 'the log line\'s request id is the decision id');
    assert.equal(line.decided_at, body.decided_at);
    assert.equal(line.path, file);
    assert.equal(line.verdict, decision.verdict);
    assert.deepEqual(line.reasons, decision.reasons.map((x) => x.code));
    assert.equal(line.knowledge_base_revision, loadKnowledgeBase().revision);
    assert.equal(typeof line.reqId, 'string');
  });

  test('a path that does not exist yet is judged by its nearest existing ancestor', async (t) => {
    const h = await harness(t);
    const r = await h.app.inject({ url: q(path.join(root, 'new', 'disk.raw'), '&selftest=never') });
    assert.equal(r.statusCode, 200);
    assert.equal(r.json<{ judged_directory: string }>().judged_directory, root);
  });

  test('selftest=auto does not run a self-test where none applies (not XFS)', async (t) => {
    const h = await harness(t);
    const r = await h.app.inject({ url: q(root) });
    assert.equal(r.statusCode, 200);
    assert.equal(h.runs.count, 0);
  });
});

describe('access: an allowed root that does not exist yet', () => {
  test('a decision judges the root\'s existing ancestor (statfs only), runs no self-test there, and a symlink still cannot escape', async (t) => {
    const fresh = path.join(base, 'fresh-host', 'var', 'lib', 'libvirt', 'images');
    mkdirSync(path.join(base, 'fresh-host', 'var', 'lib'), { recursive: true });
    const h = await harness(t, { policy: { ...policy, allowed_roots: [root, fresh] } });
    for (const target of [fresh, path.join(fresh, 'vm.qcow2')]) {
      const r = await h.app.inject({ url: q(target) });
      assert.equal(r.statusCode, 200, r.body);
      const d = r.json<{ judged_directory: string; evidence: { filesystem: { path_kind: string }; selftest: unknown } }>();
      assert.equal(d.judged_directory, path.join(base, 'fresh-host', 'var', 'lib'));
      assert.equal(d.evidence.filesystem.path_kind, 'missing');
      assert.equal(d.evidence.selftest, null);
    }
    assert.equal(h.runs.count, 0, 'no self-test outside the roots');
    // The self-test route still refuses it: it would write outside the roots.
    const st = await h.app.inject({ method: 'POST', url: '/v1/selftest', payload: { path: fresh } });
    assert.equal(st.statusCode, 403);
    // A symlink in an existing root pointing elsewhere is still refused, missing target or not.
    assert.equal((await h.app.inject({ url: q(path.join(root, 'escape', 'new.qcow2')) })).statusCode, 403);
  });
});

describe('access: allowed roots', () => {
  const cases: [string, () => string, RegExp][] = [
    ['outside the roots', () => outside, /outside the allowed roots/],
    ['.. out of a root', () => `${root}/../outside`, /outside the allowed roots/],
    ['a prefix that is not a path component', () => `${root}x`, /outside the allowed roots/],
    // the answer never says where the link points nor which roots there are (issue 8.4)
    ['a symlink inside a root pointing out', () => path.join(root, 'escape'), /^\S+\/escape is outside the allowed roots of the policy$/],
    ['a file behind a symlink pointing out', () => path.join(root, 'escape', 'vm.img'), /^\S+\/escape\/vm\.img is outside the allowed roots of the policy$/],
  ];
  for (const [name, p, message] of cases) {
    test(`decision: 403 path_not_allowed for ${name}`, async (t) => {
      const h = await harness(t);
      const r = await h.app.inject({ url: q(p()) });
      assert.equal(r.statusCode, 403);
      // an RFC 9457 problem document that keeps code and message; no request_id below 500
      assert.deepEqual(Object.keys(r.json<object>()).sort(), ['code', 'detail', 'instance', 'message', 'status', 'title', 'type']);
      assert.match(r.headers['content-type'] as string, /^application\/problem\+json/);
      assert.equal(r.json<{ code: string }>().code, 'path_not_allowed');
      assert.match(r.json<{ message: string }>().message, message);
      assert.equal(h.runs.count, 0);
    });
    test(`selftest: 403 path_not_allowed for ${name}, and no self-test runs`, async (t) => {
      const h = await harness(t);
      const r = await h.app.inject({ method: 'POST', url: '/v1/selftest', payload: { path: p() } });
      assert.equal(r.statusCode, 403);
      assert.equal(r.json<{ code: string }>().code, 'path_not_allowed');
      assert.equal(h.runs.count, 0);
    });
  }

  test('the self-test itself refuses a filesystem outside the roots (guard at the single-flight)', async (t) => {
    const h = await harness(t);
    const svc = h.app.xfsguard;
    const fs = await svc.probeFilesystem(outside);
    await assert.rejects(svc.singleFlight.run(fs, () => Promise.reject(new Error('must not start'))).report, { code: 'path_not_allowed' });
  });
});

describe('bad input: a 4xx {code, message}, never a 500', () => {
  const get: [string, string, number, string][] = [
    ['missing path', '/v1/decision', 400, 'path_missing'],
    ['empty path', '/v1/decision?path=', 400, 'path_missing'],
    ['relative path', '/v1/decision?path=images/vm.qcow2', 400, 'path_relative'],
    ['overlong path', `/v1/decision?path=/${'a'.repeat(4200)}`, 400, 'path_too_long'],
    ['NUL in the path', '/v1/decision?path=/var/tmp/a%00b', 400, 'path_nul'],
    ['unknown query parameter', '/v1/decision?path=/x&verbose=1', 400, 'unknown_query_parameter'],
    ['unknown aio', '/v1/decision?path=/x&aio=posix', 400, 'invalid_query'],
    ['unknown selftest', '/v1/decision?path=/x&selftest=always', 400, 'invalid_query'],
    ['path given twice', '/v1/decision?path=/a&path=/b', 400, 'invalid_query'],
    ['unknown route', '/v1/nothing', 404, 'not_found'],
    ['bad percent-encoding in the URL', '/v1/%zz', 400, 'bad_url'],
    ['POST-only route', '/v1/selftest', 405, 'method_not_allowed'],
  ];
  for (const [name, url, status, code] of get) {
    test(`GET: ${name} → ${status} ${code}`, async (t) => {
      const h = await harness(t);
      const r = await h.app.inject({ url });
      assert.equal(r.statusCode, status, r.body);
      const body = r.json<{ code: string; message: string }>();
      assert.equal(body.code, code);
      assert.ok(body.message.length > 0);
      const logged = h.logs.find((l) => l.msg === 'request rejected');
      assert.ok(logged, 'the rejection is logged');
      assert.equal(logged.code, code);
      assert.equal(logged.statusCode, status);
    });
  }

  test('unsupported methods: 405 with Allow', async (t) => {
    const h = await harness(t);
    for (const [method, url] of [['DELETE', '/v1/decision'], ['PUT', '/v1/selftest'], ['POST', '/livez']] as const) {
      const r = await h.app.inject({ method, url });
      assert.equal(r.statusCode, 405, `${method} ${url}`);
      assert.equal(r.json<{ code: string }>().code, 'method_not_allowed');
      assert.ok((r.headers.allow as string).length > 0);
    }
  });

  const post: [string, { payload: string | object; headers?: Record<string, string> }, number, string][] = [
    ['malformed JSON', { payload: '{"path": ', headers: { 'content-type': 'application/json' } }, 400, 'malformed_json'],
    ['empty JSON body', { payload: '', headers: { 'content-type': 'application/json' } }, 400, 'empty_body'],
    ['a body over 16 KiB', { payload: { path: `/${'a'.repeat(20_000)}` } }, 413, 'body_too_large'],
    ['text/plain', { payload: 'path=/x', headers: { 'content-type': 'text/plain' } }, 415, 'unsupported_media_type'],
    ['not an object', { payload: '[1]', headers: { 'content-type': 'application/json' } }, 400, 'invalid_body'],
    ['missing path', { payload: {} }, 400, 'path_missing'],
    ['unknown field', { payload: { path: '/x', force: true } }, 400, 'unknown_field'],
    ['iterations as a string', { payload: { path: '/x', iterations: '10' } }, 400, 'invalid_body'],
    ['iterations 0', { payload: { path: '/x', iterations: 0 } }, 400, 'invalid_body'],
    ['unknown engine', { payload: { path: '/x', engine: 'sync' } }, 400, 'invalid_body'],
    ['relative path', { payload: { path: 'x' } }, 400, 'path_relative'],
    ['NUL in the path', { payload: { path: '/var/tmp/\u0000' } }, 400, 'path_nul'],
    ['prototype poisoning', { payload: '{"path":"/x","__proto__":{"a":1}}', headers: { 'content-type': 'application/json' } }, 400, 'malformed_json'],
  ];
  for (const [name, req, status, code] of post) {
    test(`POST /v1/selftest: ${name} → ${status} ${code}`, async (t) => {
      const h = await harness(t);
      const r = await h.app.inject({ method: 'POST', url: '/v1/selftest', ...req });
      assert.equal(r.statusCode, status, r.body);
      assert.equal(r.json<{ code: string }>().code, code);
      assert.equal(h.runs.count, 0);
    });
  }

  test('an internal failure is a 500 {code: internal, request_id} with the request id in the log', async (t) => {
    const h = await harness(t, { judge: () => Promise.reject(new Error('disk on fire')) });
    const r = await h.app.inject({ url: q(root) });
    assert.equal(r.statusCode, 500);
    const body = r.json<{ code: string; message: string; request_id: string }>();
    assert.equal(body.code, 'internal');
    assert.doesNotMatch(body.message, /disk on fire/);
    assert.match(body.request_id, UUID);
    const line = h.logs.find((l) => l.msg === 'internal error');
    assert.ok(line);
    assert.equal(line.reqId, body.request_id);
    assert.match(JSON.stringify(line.err), /disk on fire/);
  });
});

describe('POST /v1/selftest', () => {
  test('concurrent requests for one filesystem share one run; the result reaches host, metrics and state', async (t) => {
    const h = await harness(t);
    const rs = await Promise.all(
      Array.from({ length: 5 }, (_, i) => h.app.inject({ method: 'POST', url: '/v1/selftest', payload: { path: i % 2 === 0 ? root : path.join(root, 'vm.qcow2'), iterations: 10 } })),
    );
    for (const r of rs) assert.equal(r.statusCode, 200, r.body);
    assert.equal(h.runs.count, 1);
    const bodies = rs.map((r) => r.json<{ joined: boolean; report: SelfTestReport }>());
    assert.equal(bodies.filter((b) => !b.joined).length, 1);
    assert.equal(bodies.filter((b) => b.joined).length, 4);
    assert.ok(bodies.every((b) => b.report.started_at === bodies[0]!.report.started_at));

    const host = (await h.app.inject({ url: '/v1/host' })).json<{ selftests: { device: string; outcome: string; current_boot: boolean; age_s: number; running: boolean }[] }>();
    assert.equal(host.selftests.length, 1);
    assert.equal(host.selftests[0]!.outcome, 'not_reproduced');
    assert.equal(host.selftests[0]!.current_boot, true);
    assert.equal(host.selftests[0]!.running, false);

    const metrics = (await h.app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /xfsguard_selftest_runs_total\{outcome="not_reproduced"\} 1/);
    assert.match(metrics, /xfsguard_selftest_run_duration_seconds_count 1/);
    assert.match(metrics, /xfsguard_selftest_newest_age_seconds\{device="[0-9]+:[0-9]+",fs_type="[^"]+",outcome="not_reproduced",current_boot="true"\}/);

    // a later run is a new one
    const again = await h.app.inject({ method: 'POST', url: '/v1/selftest', payload: { path: root } });
    assert.equal(again.json<{ joined: boolean }>().joined, false);
    assert.equal(h.runs.count, 2);
  });

  test('is rate-limited (429 rate_limited) per client (issue 8.4: one client cannot spend another\'s)', async (t) => {
    const h = await harness(t, { limits: { selftestRateMax: 2 } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await h.app.inject({ method: 'POST', url: '/v1/selftest', payload: { path: root }, remoteAddress: '127.0.0.1' })).statusCode);
    assert.deepEqual(statuses, [200, 200, 429]);
    const r = await h.app.inject({ method: 'POST', url: '/v1/selftest', payload: { path: root }, remoteAddress: '127.0.0.1' });
    assert.equal(r.json<{ code: string }>().code, 'rate_limited');
    assert.equal((await h.app.inject({ method: 'POST', url: '/v1/selftest', payload: { path: root }, remoteAddress: '127.0.0.2' })).statusCode, 200, 'another client');
    // decisions are not rate-limited
    assert.equal((await h.app.inject({ url: q(root, '&selftest=never') })).statusCode, 200);
  });

  test('the shutdown signal reaches the running self-test', async (t) => {
    const shutdown = new AbortController();
    const h = await harness(t, { shutdownSignal: shutdown.signal });
    const pending = h.app.inject({ method: 'POST', url: '/v1/selftest', payload: { path: root } });
    await new Promise((r) => setTimeout(r, 30));
    shutdown.abort();
    const r = await pending;
    assert.equal(r.statusCode, 200);
    assert.equal(h.runs.signals[0], shutdown.signal);
    assert.equal(r.json<{ report: SelfTestReport }>().report.outcome, 'unsupported');
  });
});

describe('GET /v1/host, /metrics, OpenAPI', () => {
  test('host: kernel, version, knowledge base revision, policy in force', async (t) => {
    const h = await harness(t);
    h.state.put(fakeReport(await h.app.xfsguard.probeFilesystem(root), { ...kernel, boot_id: 'another-boot' }), Date.now() - 60_000);
    const r = await h.app.inject({ url: '/v1/host' });
    assert.equal(r.statusCode, 200);
    const body = r.json<{
      kernel: KernelFacts; xfsguard_version: string; knowledge_base: { revision: string };
      policy: { allowed_roots: string[]; source: string }; selftests: { current_boot: boolean; age_s: number }[];
    }>();
    assert.equal(body.kernel.release, kernel.release);
    assert.match(body.xfsguard_version, /^\d+\.\d+\.\d+/);
    assert.equal(body.knowledge_base.revision, loadKnowledgeBase().revision);
    assert.deepEqual(body.policy.allowed_roots, [root]);
    assert.equal(body.policy.source, 'test policy');
    assert.equal(body.selftests[0]!.current_boot, false);
    assert.ok(body.selftests[0]!.age_s >= 59);
  });

  test('metrics: Prometheus text with decisions by verdict and request latency', async (t) => {
    const h = await harness(t);
    await h.app.inject({ url: q(root, '&selftest=never') });
    const r = await h.app.inject({ url: '/metrics' });
    assert.equal(r.statusCode, 200);
    assert.match(r.headers['content-type'] as string, /^text\/plain/);
    assert.match(r.body, /xfsguard_decisions_total\{verdict="not_affected"\} 1/);
    assert.match(r.body, /xfsguard_http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/v1\/decision",status_code="200"\}/);
    assert.match(r.body, /# TYPE xfsguard_selftest_run_duration_seconds histogram/);
    assert.match(r.body, /# TYPE xfsguard_selftest_duration_seconds gauge/);
    assert.match(r.body, /# TYPE xfsguard_selftest_newest_age_seconds gauge/);
  });

  test('openapi.json documents every API route from the zod schemas; /docs serves the UI', async (t) => {
    const h = await harness(t);
    const r = await h.app.inject({ url: '/openapi.json' });
    assert.equal(r.statusCode, 200);
    const doc = r.json<{ openapi: string; paths: Record<string, Record<string, { parameters?: { name: string }[] }>>; components: { schemas: Record<string, unknown> } }>();
    assert.match(doc.openapi, /^3\./);
    assert.deepEqual(Object.keys(doc.paths).sort(), ['/livez', '/readyz', '/v1/decision', '/v1/host', '/v1/selftest']);
    assert.deepEqual(doc.paths['/v1/decision']!.get!.parameters!.map((p) => p.name).sort(), [
      'aio',
      'kernel_release',
      'kernel_version',
      'path',
      'selftest',
      'version_signature',
    ]);
    assert.ok(doc.paths['/v1/selftest']!.post);
    for (const id of ['Decision', 'Problem', 'SelfTestResponse', 'Host']) {
      assert.ok(Object.keys(doc.components.schemas).some((k) => k.startsWith(id)), `component ${id}`);
    }
    const docs = await h.app.inject({ url: '/docs' });
    assert.equal(docs.statusCode, 200);
    assert.match(docs.body, /swagger/i);
  });
});

describe('hostile clients (review findings)', () => {
  test('bad or forbidden self-test requests are answered for what is wrong and do not spend the rate limit', async (t) => {
    const h = await harness(t, { limits: { selftestRateMax: 2 } });
    const bad: [object, number, string][] = [
      [{ path: 'relative' }, 400, 'path_relative'],
      [{ path: outside }, 403, 'path_not_allowed'],
      [{ path: root, iterations: -1 }, 400, 'invalid_body'],
      [{ path: root, iterations: 1.5 }, 400, 'invalid_body'],
      [{ path: [root] }, 400, 'invalid_body'],
    ];
    for (let i = 0; i < 3; i++) {
      for (const [payload, status, code] of bad) {
        const r = await h.app.inject({ method: 'POST', url: '/v1/selftest', payload });
        assert.equal(r.statusCode, status, r.body);
        assert.equal(r.json<{ code: string }>().code, code);
      }
    }
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await h.app.inject({ method: 'POST', url: '/v1/selftest', payload: { path: root } })).statusCode);
    assert.deepEqual(statuses, [200, 200, 429]);
    // still told what is wrong once the limit is reached
    const r = await h.app.inject({ method: 'POST', url: '/v1/selftest', payload: { path: outside } });
    assert.equal(r.json<{ code: string }>().code, 'path_not_allowed');
  });

  test('errno failures of a probe are 4xx naming the path, never 500', async (t) => {
    const cases: [string, number, string][] = [
      ['ENOTCONN', 422, 'path_unavailable'],
      ['EIO', 422, 'path_unavailable'],
      ['ESTALE', 422, 'path_unavailable'],
      ['ELOOP', 400, 'path_invalid'],
      ['ENAMETOOLONG', 400, 'path_too_long'],
      ['EACCES', 403, 'path_permission'],
    ];
    for (const [errno, status, code] of cases) {
      // as the real probe fails: the errno turned into a PathInputError naming the path
      const fail = (p: string) => Promise.reject(pathErrorFromErrno(Object.assign(new Error(`${errno}: realpath`), { code: errno, syscall: 'realpath' }), p) ?? new Error('unmapped'));
      const h = await harness(t, { probeFilesystem: fail });
      for (const r of [
        await h.app.inject({ url: q(path.join(root, 'x'), '&selftest=never') }),
        await h.app.inject({ method: 'POST', url: '/v1/selftest', payload: { path: path.join(root, 'x') } }),
      ]) {
        assert.equal(r.statusCode, status, `${errno}: ${r.body}`);
        const body = r.json<{ code: string; message: string }>();
        assert.deepEqual(Object.keys(body).sort(), ['code', 'detail', 'instance', 'message', 'status', 'title', 'type']);
        assert.equal(body.code, code);
        assert.ok(body.message.startsWith(`cannot examine ${path.join(root, 'x')}: `), body.message);
        assert.match(body.message, new RegExp(errno));
      }
      assert.equal(h.runs.count, 0);
    }
  });

  test('a probe that hangs (hung FUSE/NFS mount) is answered 504; once stuck probes could hold every thread, 503 at once; readyz and metrics tell', async (t) => {
    const hung: (() => void)[] = [];
    let aborted = false;
    const dead = () => pathErrorFromErrno(Object.assign(new Error('ENOTCONN: socket is not connected, realpath'), { code: 'ENOTCONN' }), path.join(root, 'hung')) ?? new Error('unmapped');
    const h = await harness(t, {
      limits: { probeTimeoutMs: 100, maxStuckProbes: 2 },
      probeFilesystem: (p) => {
        if (!p.includes('hung')) return h0.app.xfsguard.probeFilesystem(p);
        if (aborted) return Promise.reject(dead());
        return new Promise((_, reject) => hung.push(() => reject(dead())));
      },
    });
    const h0 = await harness(t);
    const hungPath = path.join(root, 'hung', 'disk.img');
    let r = await h.app.inject({ url: q(hungPath) });
    assert.equal(r.statusCode, 504, r.body);
    const body = r.json<{ code: string; message: string; request_id: string }>();
    assert.equal(body.code, 'path_unresponsive');
    assert.match(body.message, /did not answer within 100 ms/);
    assert.match(body.request_id, UUID);
    assert.ok(h.logs.some((l) => l.level === 50 && /has not returned/.test(String(l.msg))), 'the stuck probe is logged');
    let ready = await h.app.inject({ url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.equal(ready.json<{ checks: Record<string, { status: string }> }>().checks.filesystem_probes!.status, 'warn');
    // healthy paths still answer
    assert.equal((await h.app.inject({ url: q(root, '&selftest=never') })).statusCode, 200);
    r = await h.app.inject({ method: 'POST', url: '/v1/selftest', payload: { path: hungPath } });
    assert.equal(r.statusCode, 504, r.body);
    // two stuck: no new probe is started
    r = await h.app.inject({ url: q(root, '&selftest=never') });
    assert.equal(r.statusCode, 503, r.body);
    assert.equal(r.json<{ code: string }>().code, 'probes_stalled');
    ready = await h.app.inject({ url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    assert.equal(ready.json<{ checks: Record<string, { status: string }> }>().checks.filesystem_probes!.status, 'fail');
    assert.match((await h.app.inject({ url: '/metrics' })).body, /^xfsguard_filesystem_probes_stuck 2$/m);
    // the mount is aborted: the probes return and the service recovers by itself
    aborted = true;
    for (const release of hung) release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await h.app.inject({ url: '/readyz' })).statusCode, 200);
    assert.equal((await h.app.inject({ url: q(root, '&selftest=never') })).statusCode, 200);
    r = await h.app.inject({ url: q(hungPath) });
    assert.equal(r.statusCode, 422);
    assert.equal(r.json<{ code: string }>().code, 'path_unavailable');
  });

  test('415 names the Content-Type it refused; a 403 from a plugin has code forbidden', async (t) => {
    const h = await harness(t);
    for (const [type, shown] of [['application/x-www-form-urlencoded', /"application\/x-www-form-urlencoded" is not supported/], ['application/xml', /"application\/xml"/]] as const) {
      const r = await h.app.inject({ method: 'POST', url: '/v1/selftest', payload: 'path=/x', headers: { 'content-type': type } });
      assert.equal(r.statusCode, 415);
      assert.equal(r.json<{ code: string }>().code, 'unsupported_media_type');
      assert.match(r.json<{ message: string }>().message, shown);
      assert.match(r.json<{ message: string }>().message, /application\/json/);
    }
    const r = await h.app.inject({ url: '/docs/static/%2e%2e/%2e%2e/package.json' });
    assert.ok(r.statusCode === 403 || r.statusCode === 404, r.body);
    if (r.statusCode === 403) assert.equal(r.json<{ code: string }>().code, 'forbidden');
  });
});
