// Issue 8.3: a hung filesystem cannot hold the answer hostage. The XFS under test is frozen with
// `fsfreeze -f` (every write to it blocks until thawed); the self-test's process is abandoned at
// its deadline and the caller answers: runSelfTest with a typed timeout result, the CLI by exiting
// near its deadline with a report saying the device did not respond. Always thawed in a finally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { loadKnowledgeBase } from '../policies/knowledge-base.js';
import { defaultPolicy } from '../policies/operator-policy.js';
import { startServer } from '../service/http/server.js';
import { probeFilesystem } from '../probes/filesystem.js';
import { probeKernel } from '../probes/kernel.js';
import { hungDevices } from '../probes/selftest-process.js';
import { runSelfTest, selfTestTimedOut } from '../probes/selftest.js';
import { CLI } from './helpers/run-cli.js';
import { loopFsOrSkip } from './helpers/scratch-fs.js';

function haveFsfreeze(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v fsfreeze'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function frozen<T>(mountPoint: string, fn: () => Promise<T>): Promise<T> {
  execFileSync('fsfreeze', ['-f', mountPoint]);
  try {
    return await fn();
  } finally {
    execFileSync('fsfreeze', ['-u', mountPoint]);
  }
}

/** Runs the built CLI without waiting for anything but its own exit (a stuck grandchild must not matter). */
function runCliTimed(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

const why = haveFsfreeze() ? null : 'fsfreeze is not installed (util-linux)';

test('frozen XFS: runSelfTest answers at its deadline with a typed timeout; a second call does not start another', { skip: why ?? false, timeout: 120_000 }, async (t) => {
  const xfs = loopFsOrSkip(t, 'xfs');
  if (xfs === null) return;
  const fs = await probeFilesystem(xfs.mountPoint);
  const kernel = await probeKernel();
  const budget = 1500;
  await frozen(xfs.mountPoint, async () => {
    const t0 = Date.now();
    const report = await runSelfTest(fs, kernel, { budget_ms: budget, iterations: 5, max_bytes: 4 << 20 });
    const ms = Date.now() - t0;
    t.diagnostic(`frozen: answered in ${ms} ms (budget ${budget} ms + grace, plus the child's start-up); ${report.reason}`);
    assert.ok(selfTestTimedOut(report), JSON.stringify(report.runs.map((r) => r.reason)));
    assert.equal(report.outcome, 'unsupported');
    assert.match(report.reason ?? '', /did not respond/);
    assert.ok(report.runs.every((r) => r.reason?.stage === 'timeout'));
    // Child start-up (tsx compiles on the fly, slow on a shared 2-CPU box) + budget + 2 s grace.
    assert.ok(ms < budget + 2000 + 15_000, `took ${ms} ms`);
    const stuck = hungDevices().find((h) => h.device === fs.device);
    if (stuck !== undefined) {
      // The abandoned child is still blocked: the next ask answers at once instead of queueing behind it.
      const t1 = Date.now();
      const again = await runSelfTest(fs, kernel, { budget_ms: budget });
      assert.ok(selfTestTimedOut(again));
      assert.ok(Date.now() - t1 < 1000, `second ask took ${Date.now() - t1} ms`);
    } else {
      t.diagnostic('the abandoned child already exited (SIGKILL woke it from the freeze wait on this kernel)');
    }
  });
  // Thawed: the filesystem answers again and a self-test runs normally.
  for (let i = 0; i < 50 && hungDevices().some((h) => h.device === fs.device); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(hungDevices().some((h) => h.device === fs.device), false, 'the abandoned child did not exit after the thaw');
  const after = await runSelfTest(fs, kernel, { budget_ms: 500, iterations: 3, max_bytes: 4 << 20 });
  assert.equal(selfTestTimedOut(after), false);
  assert.notEqual(after.outcome, 'unsupported', after.reason ?? '');
});

test('frozen XFS: `check --selftest always --budget-ms N` exits at its deadline saying the device did not respond', { skip: why ?? (existsSync(CLI) ? false : `${CLI} not built (npm run build)`), timeout: 120_000 }, async (t) => {
  const xfs = loopFsOrSkip(t, 'xfs');
  if (xfs === null) return;
  const stateDir = mkdtempSync('/var/tmp/xfsguard-test-hang-state-');
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const budget = 2000;
  const r = await frozen(xfs.mountPoint, () =>
    runCliTimed(['check', xfs.mountPoint, '--selftest', 'always', '--budget-ms', String(budget), '--json', '--state-dir', stateDir]),
  );
  t.diagnostic(`CLI on a frozen XFS: exit ${r.code} after ${r.ms} ms (budget ${budget} ms)`);
  assert.ok(r.ms < budget + 2000 + 6000, `the CLI took ${r.ms} ms`);
  const decision = JSON.parse(r.stdout) as { verdict: string; evidence: { selftest: { report: { reason: string; timeout?: unknown } } | null } };
  assert.match(decision.evidence.selftest?.report.reason ?? '', /device did not respond/);
  assert.ok(decision.evidence.selftest?.report.timeout);
  t.diagnostic(`verdict: ${decision.verdict}`);
});

function request(sock: string, urlPath: string, method = 'GET', body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, path: urlPath, method, agent: false, headers: body !== undefined ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('frozen XFS: POST /v1/selftest answers 504; /readyz and /metrics name the device; the decision is still answered', { skip: why ?? false, timeout: 120_000 }, async (t) => {
  const xfs = loopFsOrSkip(t, 'xfs');
  if (xfs === null) return;
  const root = path.join(xfs.mountPoint, 'images');
  mkdirSync(root);
  const base = mkdtempSync('/var/tmp/xfsguard-test-hang-svc-');
  const sock = path.join(base, 'run', 'xfsguard.sock');
  const server = await startServer({
    policy: { ...defaultPolicy(), allowed_roots: [root], source: 'test policy' },
    knowledgeBase: loadKnowledgeBase(),
    stateDir: path.join(base, 'state'),
    socketPath: sock,
    tcp: null,
    logger: false,
    selftest: { budget_ms: 1500, iterations: 10 },
    hostFacts: () => Promise.resolve({ hostname: null, arch: process.arch, platform: process.platform, distro: null, note: null }),
  });
  t.after(async () => {
    await server.close();
    rmSync(base, { recursive: true, force: true });
  });
  const device = (await probeFilesystem(root)).device;
  await frozen(xfs.mountPoint, async () => {
    const t0 = Date.now();
    const r = await request(sock, '/v1/selftest', 'POST', JSON.stringify({ path: root }));
    const ms = Date.now() - t0;
    t.diagnostic(`POST /v1/selftest on a frozen XFS: ${r.status} after ${ms} ms: ${r.text}`);
    assert.equal(r.status, 504, r.text);
    assert.match(r.text, /did not respond/);
    const ready = await request(sock, '/readyz');
    t.diagnostic(`/readyz: ${ready.status} ${ready.text}`);
    const metrics = await request(sock, '/metrics');
    const line = metrics.text.split('\n').find((l) => l.startsWith('xfsguard_selftest_device_unresponsive{'));
    t.diagnostic(`/metrics: ${line ?? '(no unresponsive device)'}`);
    if (hungDevices().some((h) => h.device === device)) {
      assert.match(ready.text, new RegExp(`device ${device} did not respond`));
      assert.equal(line, `xfsguard_selftest_device_unresponsive{device="${device}"} 1`);
    }
    // selftest=auto while the device hangs: answered within the deadline, never hanging.
    const t1 = Date.now();
    const dec = await request(sock, `/v1/decision?path=${encodeURIComponent(root)}&aio=native&selftest=auto`);
    t.diagnostic(`GET /v1/decision?selftest=auto on a frozen XFS: ${dec.status} after ${Date.now() - t1} ms`);
    assert.ok(Date.now() - t1 < 15_000);
  });
});
