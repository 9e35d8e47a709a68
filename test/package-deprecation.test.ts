// Under --pending-deprecation (with traces) no deprecation warning comes from our code: the CLI
// commands and the HTTP service, run on whichever Node runs this test (.ci/run: 20, 22 and 24).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CLI } from './helpers/run-cli.js';
import { getOnSocket, waitServeReady } from './helpers/serve-ready.js';

const work = mkdtempSync(path.join('/var/tmp', 'xfsguard-deprecation-'));
test.after(() => rmSync(work, { recursive: true, force: true }));
const policy = path.join(work, 'policy.json');
writeFileSync(policy, JSON.stringify({ mode: 'conservative', allowed_roots: [work] }));
const env = { ...process.env, XFSGUARD_POLICY: policy, XFSGUARD_STATE_DIR: path.join(work, 'state'), XFSGUARD_DEBUG: '' };
const FLAGS = ['--pending-deprecation', '--trace-deprecation', '--trace-warnings'];

/** Deprecation warnings in stderr, split into ours (first non-node frame outside node_modules) and the dependencies'. */
export function deprecations(stderr: string): { ours: string[]; theirs: string[] } {
  const ours: string[] = [];
  const theirs: string[] = [];
  const lines = stderr.split('\n');
  lines.forEach((line, i) => {
    if (!/DeprecationWarning/.test(line)) return;
    const frames: string[] = [];
    for (let j = i + 1; j < lines.length && /^\s+at /.test(lines[j]!); j++) frames.push(lines[j]!);
    const first = frames.find((f) => !/\(node:|at node:|\(<anonymous>\)/.test(f)) ?? '';
    (first.includes('/node_modules/') ? theirs : ours).push(`${line.trim()} ${first.trim()}`);
  });
  return { ours, theirs };
}

test('the deprecation filter tells ours from a dependency\'s', () => {
  const stderr = `(node:1) [DEP0005] DeprecationWarning: Buffer() is deprecated\n    at new Buffer (node:buffer:1:1)\n    at f (/x/node_modules/dep/a.js:1:1)\n`
    + `(node:1) [DEP0005] DeprecationWarning: Buffer() is deprecated\n    at new Buffer (node:buffer:1:1)\n    at g (/x/dist/service/judge.js:1:1)\n`;
  const d = deprecations(stderr);
  assert.equal(d.theirs.length, 1);
  assert.equal(d.ours.length, 1);
  assert.match(d.ours[0]!, /judge\.js/);
});

test('CLI commands under --pending-deprecation: nothing deprecated of ours', (t) => {
  const runs = [
    ['check', work, '--json'],
    ['explain', work],
    ['selftest', work, '--engine', 'aio', '--mode', 'zero-range', '--budget-ms', '2000', '--json'],
    ['install', '--dry-run', '--root', path.join(work, 'root')],
    ['uninstall', '--dry-run', '--root', path.join(work, 'root')],
    ['boot-check', '--help'],
    ['--version'],
    ['check'],
  ];
  for (const args of runs) {
    const r = spawnSync(process.execPath, [...FLAGS, CLI, ...args], { env, encoding: 'utf8', timeout: 60_000 });
    assert.ok(r.status !== null && r.status !== 1, `${args.join(' ')} answered (${r.status}): ${r.stderr}`);
    const d = deprecations(r.stderr);
    assert.deepEqual(d.ours, [], `xfsguard ${args.join(' ')} on Node ${process.version}`);
    for (const w of d.theirs) t.diagnostic(`dependency: ${w}`);
  }
});

test('the HTTP service under --pending-deprecation: nothing deprecated of ours', { timeout: 60_000 }, async () => {
  const socket = path.join(work, 'api.sock');
  const child = spawn(process.execPath, [...FLAGS, CLI, 'serve', '--no-tcp', '--socket', socket, '--log-level', 'warn'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdout.resume();
  try {
    assert.ok(await waitServeReady(socket, 10_000), `serve came up: ${stderr}`);
    for (const url of [`/v1/decision?path=${encodeURIComponent(work)}&selftest=never`, '/v1/host', '/livez', '/metrics', '/openapi.json', '/docs/']) {
      const r = await getOnSocket(socket, url);
      assert.ok(r.code < 500, `${url}: ${r.code} ${r.body.slice(0, 300)}`);
    }
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  assert.deepEqual(deprecations(stderr).ours, [], `serve on Node ${process.version}`);
});
