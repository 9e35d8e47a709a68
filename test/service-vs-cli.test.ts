// The HTTP answer and the CLI answer are the same answer: `curl --unix-socket … /v1/decision` on a
// running `xfsguard serve` against `xfsguard check --json`, on a real XFS and on ext4.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { loopFsOrSkip } from './helpers/scratch-fs.js';
import { CLI, runCli } from './helpers/run-cli.js';

interface DecisionDoc {
  enable_workaround: boolean;
  verdict: string;
  confidence: string;
  reasons: { code: string }[];
  evidence: { selftest: { cached: boolean; report: { started_at: string } } | null };
  provenance: { knowledge_base_revision: string };
}

/**
 * A decision without what is each answer's own: its id and time, duration, free space, a stored
 * self-test's age (also in seconds, in the reasons: the two answers are not made in the same second).
 */
function sameDocument(doc: unknown): unknown {
  const text = JSON.stringify(doc).replace(/stored result \d+ s old/g, 'stored result N s old');
  const d = JSON.parse(text) as Record<string, unknown> & { evidence: { filesystem: { free_bytes?: number }; selftest: { age_ms?: number } | null } };
  for (const k of ['decision_id', 'decided_at', 'duration_ms', 'selftest_ran']) delete d[k];
  delete d.evidence.filesystem.free_bytes;
  if (d.evidence.selftest !== null) delete d.evidence.selftest.age_ms;
  return d;
}

function curlDecision(socket: string, target: string): { status: number; body: DecisionDoc } {
  const r = spawnSync('curl', ['-sS', '--unix-socket', socket, '-w', '\n%{http_code}', `http://x/v1/decision?path=${encodeURIComponent(target)}&selftest=never`], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `curl: ${r.stderr}`);
  const lines = r.stdout.trimEnd().split('\n');
  const status = Number(lines.pop());
  return { status, body: JSON.parse(lines.join('\n')) as DecisionDoc };
}

const noCurl = spawnSync('sh', ['-c', 'command -v curl'], { stdio: 'ignore' }).status !== 0 ? 'curl is not installed (apt-get install curl)' : null;

/** `xfsguard serve` on a socket, once it logged "ready"; the returned stop() sends SIGTERM and resolves with the exit code. */
async function startServe(t: TestContext, socket: string, env: NodeJS.ProcessEnv): Promise<() => Promise<number | null>> {
  const server = spawn(process.execPath, [CLI, 'serve', '--socket', socket, '--no-tcp'], { env: { ...process.env, ...env, NOTIFY_SOCKET: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  server.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)));
  t.after(() => {
    if (server.exitCode === null) server.kill('SIGKILL');
  });
  for (let i = 0; i < 400 && !/"msg":"ready"/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(out, /"msg":"ready"/, out);
  return () => {
    server.kill('SIGTERM');
    return exited;
  };
}

test('curl on the unix socket answers with the verdict `xfsguard check` gives', { skip: noCurl ?? false, timeout: 120_000 }, async (t) => {
  const m = loopFsOrSkip(t);
  if (m === null) return;
  const base = mkdtempSync(path.join('/var/tmp', 'xfsguard-svc-cli-'));
  chmodSync(base, 0o755);
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const ext4Images = path.join(base, 'images');
  mkdirSync(ext4Images);
  const xfsImages = path.join(m.mountPoint, 'images');
  mkdirSync(xfsImages);
  const policy = path.join(base, 'policy.json');
  writeFileSync(policy, JSON.stringify({ allowed_roots: [xfsImages, ext4Images] }));
  const env = { XFSGUARD_POLICY: policy, XFSGUARD_STATE_DIR: path.join(base, 'state') };

  // This boot's self-test, stored by the CLI, is what both answers rest on.
  const st = runCli(['selftest', '--json', '--budget-ms', '4000', xfsImages], { env });
  assert.ok(st.code === 0 || st.code === 10, st.stderr);

  const socket = path.join(base, 'xfsguard.sock');
  const stop = await startServe(t, socket, env);

  for (const target of [xfsImages, path.join(xfsImages, 'new-vm.qcow2'), ext4Images]) {
    const http = curlDecision(socket, target);
    assert.equal(http.status, 200, JSON.stringify(http.body));
    const cli = runCli(['check', '--json', '--selftest', 'never', target], { env });
    const doc = JSON.parse(cli.stdout) as DecisionDoc;
    assert.equal(http.body.verdict, doc.verdict, target);
    assert.equal(http.body.enable_workaround, doc.enable_workaround, target);
    assert.equal(http.body.confidence, doc.confidence, target);
    assert.deepEqual(http.body.reasons.map((r) => r.code), doc.reasons.map((r) => r.code), target);
    assert.equal(http.body.provenance.knowledge_base_revision, doc.provenance.knowledge_base_revision);
    assert.equal(http.body.evidence.selftest?.report.started_at, doc.evidence.selftest?.report.started_at, 'the same stored self-test');
    assert.deepEqual(sameDocument(http.body), sameDocument(doc), `${target}: the same document`);
  }
  assert.equal(curlDecision(socket, '/etc').status, 403, 'outside the allowed roots');
  assert.equal(await stop(), 0);
});

test('the served decision is the check --json document, request after request (written once, spliced per request)', { skip: noCurl ?? false, timeout: 120_000 }, async (t) => {
  const base = mkdtempSync(path.join('/var/tmp', 'xfsguard-svc-cli-doc-'));
  chmodSync(base, 0o755);
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const images = path.join(base, 'images');
  mkdirSync(images);
  const policy = path.join(base, 'policy.json');
  writeFileSync(policy, JSON.stringify({ allowed_roots: [images] }));
  const env = { XFSGUARD_POLICY: policy, XFSGUARD_STATE_DIR: path.join(base, 'state') };
  const socket = path.join(base, 'xfsguard.sock');
  const stop = await startServe(t, socket, env);
  for (const target of [images, path.join(images, 'new-vm.qcow2')]) {
    const cli = runCli(['check', '--json', '--selftest', 'never', target], { env });
    assert.equal(cli.code, 0, cli.stderr);
    const doc = JSON.parse(cli.stdout) as DecisionDoc;
    const ids = new Set<string>();
    for (let n = 0; n < 3; n++) {
      const http = curlDecision(socket, target);
      assert.equal(http.status, 200, JSON.stringify(http.body));
      assert.deepEqual(sameDocument(http.body), sameDocument(doc), `${target}, request ${n + 1}`);
      ids.add((http.body as unknown as { decision_id: string }).decision_id);
    }
    assert.equal(ids.size, 3, 'each answer its own decision id');
  }
  assert.equal(await stop(), 0);
});
