// The service on a real XFS loop mount with the real native self-test: a decision served from XFS,
// concurrent selftest=auto decisions sharing one run, the result kept in memory and on disk.
// Skipped, with the reason printed, where a loop mount cannot be made (needs root, xfsprogs).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadKnowledgeBase } from '../policies/knowledge-base.js';
import { defaultPolicy } from '../policies/operator-policy.js';
import { startServer, type RunningServer } from '../service/http/server.js';
import { loopMountUnavailable, mountLoopFs, type LoopMount } from './helpers/scratch-fs.js';

const unavailable = loopMountUnavailable('mkfs.xfs');
if (unavailable !== null) console.log(`# service-xfs: skipped: ${unavailable}`);

let mount: LoopMount | null = null;
let server: RunningServer | null = null;
let base: string;
let root: string;
const notified: string[] = [];

function get(sock: string, urlPath: string, method = 'GET', body?: string): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, path: urlPath, method, agent: false, headers: body !== undefined ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // /metrics is text
        }
        resolve({ status: res.statusCode ?? 0, json, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

before(async () => {
  if (unavailable !== null) return;
  mount = mountLoopFs('xfs', 512);
  root = path.join(mount.mountPoint, 'images');
  mkdirSync(root);
  base = mkdtempSync(path.join('/var/tmp', 'xfsguard-service-xfs-'));
  server = await startServer({
    policy: { ...defaultPolicy(), allowed_roots: [root], source: 'test policy' },
    knowledgeBase: loadKnowledgeBase(),
    stateDir: path.join(base, 'state'),
    socketPath: path.join(base, 'run', 'xfsguard.sock'),
    tcp: null,
    logger: false,
    selftest: { budget_ms: 3000, iterations: 30 },
    notify: (s) => void notified.push(s),
    hostFacts: () => Promise.resolve({ hostname: null, arch: process.arch, platform: process.platform, distro: null, note: null }),
  });
});

after(async () => {
  await server?.close();
  mount?.cleanup();
  if (base !== undefined) rmSync(base, { recursive: true, force: true });
});

const d = (p: string, selftest: 'auto' | 'never') => `/v1/decision?path=${encodeURIComponent(p)}&aio=native&selftest=${selftest}`;

test('a decision served from a real XFS filesystem', { skip: unavailable ?? false }, async () => {
  assert.deepEqual(notified, ['READY=1']);
  const r = await get(server!.socketPath!, d(path.join(root, 'vm.qcow2'), 'never'));
  assert.equal(r.status, 200, r.text);
  const body = r.json as { evidence: { filesystem: { fs_type: string }; selftest: unknown }; reasons: { code: string }[]; selftest_ran: boolean };
  assert.equal(body.evidence.filesystem.fs_type, 'xfs');
  assert.ok(body.reasons.some((x) => x.code === 'filesystem_xfs'));
  assert.ok(body.reasons.some((x) => x.code === 'selftest_none'));
  assert.equal(body.evidence.selftest, null);
  assert.equal(body.selftest_ran, false);
});

test('concurrent selftest=auto decisions on one XFS filesystem share one real self-test, kept in memory after', { skip: unavailable ?? false }, async () => {
  const sock = server!.socketPath!;
  const rs = await Promise.all(Array.from({ length: 4 }, (_, i) => get(sock, d(path.join(root, `vm${i}.qcow2`), 'auto'))));
  for (const r of rs) assert.equal(r.status, 200, r.text);
  type Body = { selftest_ran: boolean; evidence: { selftest: { cached: boolean; report: { started_at: string; fs_type: string; outcome: string } } | null } };
  const bodies = rs.map((r) => r.json as Body);
  assert.ok(bodies.every((b) => b.selftest_ran));
  const started = new Set(bodies.map((b) => b.evidence.selftest!.report.started_at));
  assert.equal(started.size, 1, 'one self-test for all four');
  assert.equal(bodies[0]!.evidence.selftest!.report.fs_type, 'xfs');

  const metrics = (await get(sock, '/metrics')).text;
  const runs = [...metrics.matchAll(/^xfsguard_selftest_runs_total\{outcome="[^"]+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  assert.equal(runs, 1);

  // the next decision uses the result from memory; it was also stored on disk
  const next = (await get(sock, d(root, 'auto'))).json as Body;
  assert.equal(next.selftest_ran, false);
  assert.equal(next.evidence.selftest!.cached, true);
  assert.equal(next.evidence.selftest!.report.started_at, [...started][0]);
  assert.ok(readdirSync(path.join(base, 'state')).some((f) => f.startsWith('selftest-')));

  const host = (await get(sock, '/v1/host')).json as { selftests: { fs_type: string; current_boot: boolean }[] };
  assert.equal(host.selftests.length, 1);
  assert.equal(host.selftests[0]!.fs_type, 'xfs');
  assert.equal(host.selftests[0]!.current_boot, true);
});

test('POST /v1/selftest runs the real self-test on XFS', { skip: unavailable ?? false }, async () => {
  const r = await get(server!.socketPath!, '/v1/selftest', 'POST', JSON.stringify({ path: root, engine: 'aio', mode: 'zero-range', iterations: 10 }));
  assert.equal(r.status, 200, r.text);
  const body = r.json as { joined: boolean; report: { outcome: string; engines: string[]; modes: string[]; fs_type: string } };
  assert.equal(body.joined, false);
  assert.deepEqual(body.report.engines, ['aio']);
  assert.deepEqual(body.report.modes, ['zero-range']);
  assert.equal(body.report.fs_type, 'xfs');
  assert.ok(['reproduced', 'not_reproduced', 'unsupported'].includes(body.report.outcome));
});

test('stopping notifies systemd and removes the socket', { skip: unavailable ?? false }, async () => {
  const sock = server!.socketPath!;
  await server!.close();
  assert.deepEqual(notified, ['READY=1', 'STOPPING=1']);
  assert.equal(existsSync(sock), false);
});
