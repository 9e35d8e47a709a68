// The host's QEMU in the service: probed once at start-up, shown by GET /v1/host, and carried in
// every decision's evidence; an exposed QEMU where the workaround is needed is the first reason.
// Real executables in a scratch directory stand for the host's QEMU builds (a 4.1.0 and a 7.2).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadKnowledgeBase } from '../policies/knowledge-base.js';
import { defaultPolicy } from '../policies/operator-policy.js';
import { probeKernel } from '../probes/kernel.js';
import { gatherQemuFacts } from '../probes/qemu.js';
import { startServer } from '../service/http/server.js';

const base = mkdtempSync(path.join('/var/tmp', 'xfsguard-service-qemu-'));
after(() => rmSync(base, { recursive: true, force: true }));

function get(socketPath: string, urlPath: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath, path: urlPath, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) as unknown }));
      })
      .on('error', reject);
  });
}

test('GET /v1/host lists the QEMU builds; decisions carry them, an exposed one first where the workaround is needed', async () => {
  const bin = path.join(base, 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'qemu-system-x86_64'), '#!/bin/sh\necho "QEMU emulator version 4.1.0"\n', { mode: 0o755 });
  writeFileSync(path.join(bin, 'qemu-img'), '#!/bin/sh\necho "qemu-img version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18)"\n', { mode: 0o755 });
  const needed = path.join(base, 'needed');
  const notNeeded = path.join(base, 'not-needed');
  mkdirSync(needed);
  mkdirSync(notNeeded);
  const policy = {
    ...defaultPolicy(),
    allowed_roots: [needed, notNeeded],
    overrides: [
      { prefix: needed, action: 'enable' as const, reason: 'test: the workaround is needed here' },
      { prefix: notNeeded, action: 'disable' as const, reason: 'test: not needed here' },
    ],
    source: 'test policy',
  };
  let probes = 0;
  const kernel = await probeKernel();
  const server = await startServer({
    policy,
    knowledgeBase: loadKnowledgeBase(),
    stateDir: path.join(base, 'state'),
    socketPath: path.join(base, 'xfsguard.sock'),
    tcp: null,
    logger: false,
    loadNative: false,
    probeKernel: () => Promise.resolve(kernel),
    hostFacts: () => Promise.resolve({ hostname: 'test', arch: process.arch, platform: process.platform, distro: null, note: null }),
    qemuFacts: () => {
      probes += 1;
      return gatherQemuFacts({ pathEnv: bin, extraDirs: [] });
    },
  });
  try {
    const sock = path.join(base, 'xfsguard.sock');
    const host = (await get(sock, '/v1/host')) as { status: number; body: { qemu: { exposure: string; versions: { path: string; version: string }[]; binaries: { exposure: string }[] } } };
    assert.equal(host.status, 200);
    assert.equal(host.body.qemu.exposure, 'exposed');
    assert.deepEqual(host.body.qemu.versions.map((v) => [path.basename(v.path), v.version]), [['qemu-img', '7.2.22'], ['qemu-system-x86_64', '4.1.0']]);
    assert.deepEqual(host.body.qemu.binaries.map((b) => b.exposure), ['workaround', 'exposed']);

    type Doc = { enable_workaround: boolean; reasons: { code: string; detail: string }[]; evidence: { qemu: { exposure: string } } };
    const yes = (await get(sock, `/v1/decision?path=${encodeURIComponent(needed)}&selftest=never`)) as { status: number; body: Doc };
    assert.equal(yes.status, 200, JSON.stringify(yes.body));
    assert.equal(yes.body.enable_workaround, true);
    assert.equal(yes.body.evidence.qemu.exposure, 'exposed');
    assert.equal(yes.body.reasons[0]?.code, 'exposed_qemu_on_affected_kernel', 'the headline warning comes first');
    assert.match(yes.body.reasons[0]?.detail ?? '', /qemu-system-x86_64 \(4\.1\.0\)/);

    const no = (await get(sock, `/v1/decision?path=${encodeURIComponent(notNeeded)}&selftest=never`)) as { status: number; body: Doc };
    assert.equal(no.body.enable_workaround, false);
    assert.equal(no.body.evidence.qemu.exposure, 'exposed', 'the evidence is there either way');
    assert.ok(!no.body.reasons.some((r) => r.code === 'exposed_qemu_on_affected_kernel'), 'no warning where the workaround is not needed');
    assert.equal(probes, 1, 'QEMU versions are read once, at start-up');
  } finally {
    await server.close();
  }
});
