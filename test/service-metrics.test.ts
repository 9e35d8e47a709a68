// /metrics as Prometheus tools see it: promtool check metrics passes; prom-client's defaults keep
// their standard names; build info; per-root verdicts; families shared with the textfile agree.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { loadKnowledgeBase } from '../policies/knowledge-base.js';
import { defaultPolicy } from '../policies/operator-policy.js';
import { probeKernel } from '../probes/kernel.js';
import { renderTextfile } from '../service/host/textfile.js';
import { buildApp } from '../service/http/app.js';
import { ServiceState } from '../service/http/state.js';
import { XFSGUARD_VERSION } from '../service/package-info.js';
import { sampleReport } from './helpers/boot-report.js';

let base: string;
let root: string;
before(() => {
  base = mkdtempSync(path.join('/var/tmp', 'xfsguard-service-metrics-'));
  root = path.join(base, 'images');
  mkdirSync(root);
  writeFileSync(path.join(root, 'vm.qcow2'), '');
});
after(() => rmSync(base, { recursive: true, force: true }));

async function scrape(t: TestContext): Promise<string> {
  const state = new ServiceState();
  const kb = loadKnowledgeBase();
  const app = await buildApp({
    policy: { ...defaultPolicy(), allowed_roots: [root, path.join(base, 'missing')], source: 'test' },
    knowledgeBase: kb,
    stateDir: path.join(base, 'state'),
    state,
  });
  await app.ready();
  state.markReady(await probeKernel(), []);
  t.after(() => app.close());
  const d = await app.inject({ url: `/v1/decision?path=${encodeURIComponent(root)}&selftest=never` });
  assert.equal(d.statusCode, 200, d.body);
  const r = await app.inject({ url: '/metrics' });
  assert.equal(r.statusCode, 200);
  return r.body;
}

function promtoolCheck(t: TestContext, text: string): string | null {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 60_000 });
  if (r.error !== undefined && 'code' in r.error && r.error.code === 'ENOENT') {
    t.skip('promtool is not installed (apt-get install prometheus)');
    return null;
  }
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

test('/metrics passes promtool check metrics with no findings', async (t) => {
  const text = await scrape(t);
  const out = promtoolCheck(t, text);
  if (out === null) return;
  assert.equal(out.trim(), '', out);
});

test('/metrics: standard process_*/nodejs_* names, build info, per-root verdicts (existing roots only)', async (t) => {
  const text = await scrape(t);
  assert.match(text, /^process_cpu_seconds_total /m);
  assert.match(text, /^# TYPE nodejs_eventloop_lag_seconds gauge$/m);
  assert.doesNotMatch(text, /^xfsguard_(process|nodejs)_/m);
  assert.match(text, new RegExp(`^xfsguard_build_info\\{version="${XFSGUARD_VERSION.replace(/\./g, '\\.')}",knowledge_base_revision="${loadKnowledgeBase().revision.replace(/\./g, '\\.')}"\\} 1$`, 'm'));
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) assert.doesNotMatch(text, new RegExp(`^${name} `, 'm'));
  assert.match(text, /^# TYPE nodejs_active_handles gauge$/m);
  const roots = [...text.matchAll(/^xfsguard_workaround_needed\{root="([^"]+)",verdict="([a-z_]+)"\} ([01])$/gm)];
  assert.deepEqual(roots.map((m) => m[1]), [root], 'the existing root only');
});

test('families in both /metrics and the textfile have one type each', async (t) => {
  const types = (text: string) => new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  const served = types(await scrape(t));
  const file = types(renderTextfile(sampleReport()));
  const shared = [...file.keys()].filter((k) => served.has(k));
  assert.ok(shared.includes('xfsguard_selftest_duration_seconds') || !served.has('xfsguard_selftest_duration_seconds'));
  assert.ok(shared.includes('xfsguard_build_info') && shared.includes('xfsguard_workaround_needed'), shared.join(','));
  for (const k of shared) assert.equal(served.get(k), file.get(k), k);
  assert.equal(served.get('xfsguard_selftest_run_duration_seconds'), 'histogram');
});
