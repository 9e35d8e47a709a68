// Issue 8.2: a dangling symlink must not give a wrong "not needed". `ln -s /xfs/new.qcow2
// /other/dl.qcow2` and `qemu-img create /other/dl.qcow2` creates the image on XFS: the CLI and the
// service judge the link's target (its nearest existing ancestor), not the filesystem of the link.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { loadKnowledgeBase } from '../policies/knowledge-base.js';
import { defaultPolicy } from '../policies/operator-policy.js';
import { startServer } from '../service/http/server.js';
import { runCli } from './helpers/run-cli.js';
import { loopFsOrSkip, tmpfsOrSkip } from './helpers/scratch-fs.js';

interface DecisionDoc {
  enable_workaround: boolean;
  verdict: string;
  judged_directory: string;
  evidence: { filesystem: { fs_type: string } };
}

function getUnix(socketPath: string, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: urlPath, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('CLI: a dangling link on tmpfs pointing into XFS is judged as XFS (affected on 4.19), not as tmpfs (exit 0)', (t) => {
  const xfs = loopFsOrSkip(t);
  if (xfs === null) return;
  const other = tmpfsOrSkip(t, 16);
  if (other === null) return;
  const link = path.join(other, 'dl.qcow2');
  symlinkSync(path.join(xfs.mountPoint, 'new-vm.qcow2'), link);
  const state = mkdtempSync(path.join('/var/tmp', 'xfsguard-security-state-'));
  t.after(() => rmSync(state, { recursive: true, force: true }));
  const r = runCli(['check', link, '--kernel-release', '4.19.0', '--json', '--state-dir', state]);
  assert.equal(r.code, 10, r.stdout + r.stderr);
  const doc = JSON.parse(r.stdout) as DecisionDoc;
  assert.equal(doc.evidence.filesystem.fs_type, 'xfs');
  assert.equal(doc.judged_directory, xfs.mountPoint);
  assert.equal(doc.enable_workaround, true);
});

test('HTTP: the same link is judged as XFS when both are allowed roots, and refused when XFS is not', async (t) => {
  const xfs = loopFsOrSkip(t);
  if (xfs === null) return;
  const other = tmpfsOrSkip(t, 16);
  if (other === null) return;
  symlinkSync(path.join(xfs.mountPoint, 'new-vm.qcow2'), path.join(other, 'dl.qcow2'));
  writeFileSync(path.join(other, 'plain.qcow2'), '');
  const state = mkdtempSync(path.join('/var/tmp', 'xfsguard-security-state-'));
  t.after(() => rmSync(state, { recursive: true, force: true }));
  const url = `/v1/decision?path=${encodeURIComponent(path.join(other, 'dl.qcow2'))}&selftest=never`;
  for (const [roots, expect] of [
    [[other, xfs.mountPoint], 200],
    [[other], 403],
  ] as const) {
    const server = await startServer({
      policy: { ...defaultPolicy(), allowed_roots: [...roots], source: 'test policy' },
      knowledgeBase: loadKnowledgeBase(),
      stateDir: state,
      socketPath: path.join(state, `s${roots.length}.sock`),
      tcp: null,
      logger: false,
      loadNative: false,
    });
    try {
      const r = await getUnix(server.socketPath!, url);
      assert.equal(r.status, expect, r.body);
      if (expect === 200) {
        const doc = JSON.parse(r.body) as DecisionDoc;
        assert.equal(doc.evidence.filesystem.fs_type, 'xfs');
        assert.equal(doc.judged_directory, xfs.mountPoint);
      }
      // a plain file beside the link is still judged where it lies
      const plain = await getUnix(server.socketPath!, `/v1/decision?path=${encodeURIComponent(path.join(other, 'plain.qcow2'))}&selftest=never`);
      assert.equal(plain.status, 200, plain.body);
      assert.equal((JSON.parse(plain.body) as DecisionDoc).evidence.filesystem.fs_type, 'tmpfs');
    } finally {
      await server.close();
    }
  }
});
