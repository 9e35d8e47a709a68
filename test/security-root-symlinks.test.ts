// Issue 8.2, follow-up: an allowed root that does not exist yet is judged at its nearest existing
// ancestor (statfs only) — but only an ancestor reached by walking up the root's own path. When a
// symlink on the way (dangling or not) leads elsewhere, the directory judged is not the root's
// parent, and its target is outside the roots: 403 like every other path outside them. Real temp
// directories and real symlinks; the service through buildApp/inject. (The CLI has no allowed roots:
// it judges any path it is given.)
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadKnowledgeBase } from '../policies/knowledge-base.js';
import { defaultPolicy } from '../policies/operator-policy.js';
import { probeKernel } from '../probes/kernel.js';
import type { KernelFacts } from '../probes/types.js';
import { buildApp } from '../service/http/app.js';
import { withResolvedRoots } from '../service/http/server.js';
import { ServiceState } from '../service/http/state.js';

let base: string;
let kernel: KernelFacts;

before(async () => {
  base = mkdtempSync(path.join('/var/tmp', 'xfsguard-root-symlinks-'));
  kernel = await probeKernel();
});
after(() => rmSync(base, { recursive: true, force: true }));

/** The service with these allowed roots (resolved as serve resolves them at start-up), ready. */
async function service(t: { after: (fn: () => Promise<void>) => void }, roots: string[]): Promise<FastifyInstance> {
  const policy = await withResolvedRoots({ ...defaultPolicy(), allowed_roots: roots, source: 'test policy' });
  const state = new ServiceState();
  const app = await buildApp({ policy, knowledgeBase: loadKnowledgeBase(), stateDir: path.join(base, 'state'), state, logger: false });
  await app.ready();
  state.markReady(kernel, []);
  t.after(() => app.close());
  return app;
}

const q = (p: string) => `/v1/decision?path=${encodeURIComponent(p)}&selftest=never`;
/** For a failed assertion: where it was judged, not the whole decision. */
const judgedAt = (body: string) => `judged at ${(JSON.parse(body) as { judged_directory?: string }).judged_directory ?? body}`;

/** A fresh directory for one case. */
function scene(name: string): string {
  const dir = path.join(base, name);
  mkdirSync(dir);
  return dir;
}

describe('an allowed root that does not exist yet, behind a symlink', () => {
  test('the root\'s own missing path is judged at its existing parent (statfs only): still 200', async (t) => {
    const dir = scene('plain');
    mkdirSync(path.join(dir, 'var', 'lib'), { recursive: true });
    const root = path.join(dir, 'var', 'lib', 'libvirt', 'images');
    const app = await service(t, [root]);
    for (const p of [root, path.join(root, 'vm.qcow2')]) {
      const r = await app.inject({ url: q(p) });
      assert.equal(r.statusCode, 200, r.body);
      assert.equal(r.json<{ judged_directory: string }>().judged_directory, path.join(dir, 'var', 'lib'));
    }
  });

  test('a dangling link in the root\'s path whose target\'s nearest existing ancestor is / : 403, never judged at /', async (t) => {
    const dir = scene('to-slash');
    const link = path.join(dir, 'pool');
    symlinkSync('/xfsguard-no-such-dir/images', link);
    const app = await service(t, [path.join(link, 'images')]);
    for (const p of [path.join(link, 'images'), path.join(link, 'images', 'vm.qcow2')]) {
      const r = await app.inject({ url: q(p) });
      assert.equal(r.statusCode, 403, `${p}: ${judgedAt(r.body)}`);
      assert.equal(r.json<{ code: string }>().code, 'path_not_allowed');
    }
  });

  test('a dangling link in the root\'s path whose target lies beside the root, under one of its parents: 403', async (t) => {
    const dir = scene('sideways');
    mkdirSync(path.join(dir, 'host'));
    // the root dir/host/pool/images: pool -> dir/elsewhere/deep (missing); its nearest existing
    // ancestor is dir, which is also a parent of the root's path as written
    symlinkSync(path.join(dir, 'elsewhere', 'deep'), path.join(dir, 'host', 'pool'));
    const root = path.join(dir, 'host', 'pool', 'images');
    const app = await service(t, [root]);
    for (const p of [root, path.join(root, 'vm.qcow2')]) {
      const r = await app.inject({ url: q(p) });
      assert.equal(r.statusCode, 403, `${p}: ${judgedAt(r.body)}`);
    }
  });

  test('an existing link in the root\'s path pointing up the tree (to /): 403, not judged at /', async (t) => {
    const dir = scene('up');
    symlinkSync('/', path.join(dir, 'top'));
    const root = path.join(dir, 'top', 'xfsguard-no-such-dir', 'images');
    const app = await service(t, [root]);
    const r = await app.inject({ url: q(path.join(root, 'vm.qcow2')) });
    assert.equal(r.statusCode, 403, judgedAt(r.body));
  });

  test('a dangling link asked for inside an existing root, pointing under a missing root\'s parent: 403', async (t) => {
    const dir = scene('two-roots');
    const present = path.join(dir, 'present');
    mkdirSync(present);
    mkdirSync(path.join(dir, 'fresh'));
    const missingRoot = path.join(dir, 'fresh', 'images');
    // present/dl.qcow2 -> dir/fresh/other/dl.qcow2: the target is beside the missing root, not in it
    symlinkSync(path.join(dir, 'fresh', 'other', 'dl.qcow2'), path.join(present, 'dl.qcow2'));
    const app = await service(t, [present, missingRoot]);
    const r = await app.inject({ url: q(path.join(present, 'dl.qcow2')) });
    assert.equal(r.statusCode, 403, judgedAt(r.body));
    // the missing root itself is still judged at its parent
    const ok = await app.inject({ url: q(path.join(missingRoot, 'vm.qcow2')) });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json<{ judged_directory: string }>().judged_directory, path.join(dir, 'fresh'));
  });

  test('a dangling link inside an existing root pointing into the same root is judged there: 200', async (t) => {
    const dir = scene('inside');
    const root = path.join(dir, 'images');
    mkdirSync(path.join(root, 'pool'), { recursive: true });
    symlinkSync(path.join(root, 'pool', 'new.qcow2'), path.join(root, 'dl.qcow2'));
    const app = await service(t, [root]);
    const r = await app.inject({ url: q(path.join(root, 'dl.qcow2')) });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json<{ judged_directory: string }>().judged_directory, path.join(root, 'pool'));
  });
});
