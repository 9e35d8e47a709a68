// What-if with the whole kernel identity (issue 10 item 3): the release plus its uname -v and
// /proc/version_signature, in decide(), the CLI (check, explain) and GET /v1/decision.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { decide } from '../policies/decide.js';
import { loadKnowledgeBase } from '../policies/knowledge-base.js';
import { defaultPolicy } from '../policies/operator-policy.js';
import { probeKernel } from '../probes/kernel.js';
import { buildApp } from '../service/http/app.js';
import { ServiceState } from '../service/http/state.js';
import { runCli } from './helpers/run-cli.js';
import { input } from './policies-fixtures.js';

const base = mkdtempSync(path.join('/var/tmp', 'xfsguard-policies-what-if-'));
const root = path.join(base, 'images');
mkdirSync(root);
after(() => rmSync(base, { recursive: true, force: true }));
const env = { XFSGUARD_STATE_DIR: path.join(base, 'state'), XFSGUARD_POLICY: path.join(base, 'policy.json') };
writeFileSync(env.XFSGUARD_POLICY, '{}');

const DEB_RELEASE = '5.4.0-0.bpo.4-amd64';
const DEB_FIXED = '#1 SMP Debian 5.4.69-1~bpo10+1 (2020-10-10)';
const DEB_OLD = '#1 SMP Debian 5.4.19-1~bpo10+1 (2020-03-09)';
const UB_RELEASE = '5.4.0-1036-azure';
const UB_SIG = 'Ubuntu 5.4.0-55.61-generic 5.4.73';

type Judged = { verdict: string; evidence: { kernel: { what_if: boolean; status: { status: string; rule: string }; parsed: { package_version: string | null } } }; reasons: { code: string; detail: string }[] };

describe('decide: the what-if identity is used to parse the judged release', () => {
  test('Debian 5.4.y: the package version in uname -v decides; without it unknown', () => {
    const status = (v?: string) => decide(input({ kernel_release_override: DEB_RELEASE, ...(v ? { kernel_version_override: v } : {}) })).evidence.kernel.status.status;
    assert.equal(status(), 'unknown');
    assert.equal(status(DEB_FIXED), 'fixed');
    assert.equal(status(DEB_OLD), 'affected');
  });
  test('Ubuntu: the version signature gives the package ABI and the stable base', () => {
    const d = decide(input({ kernel_release_override: '5.4.0-55-generic', version_signature_override: UB_SIG }));
    assert.equal(d.evidence.kernel.parsed.package_version, '5.4.0-55.61');
    assert.equal(d.evidence.kernel.status.comparison, '55 = 55 (abi)');
    const old = decide(input({ kernel_release_override: '5.4.0-55-generic', version_signature_override: 'Ubuntu 5.4.0-55.61-generic 5.4.60' }));
    assert.equal(old.evidence.kernel.status.status, 'affected');
  });
  test('the what-if reason says which identity was judged', () => {
    const d = decide(input({ kernel_release_override: DEB_RELEASE, kernel_version_override: DEB_FIXED }));
    assert.match(d.reasons.find((r) => r.code === 'kernel_what_if')!.detail, /uname -v "#1 SMP Debian 5\.4\.69/);
    const bare = decide(input({ kernel_release_override: DEB_RELEASE }));
    assert.match(bare.reasons.find((r) => r.code === 'kernel_what_if')!.detail, /release only/);
  });
  test('the running release with another uname -v is a what-if (the running self-test does not apply)', () => {
    const release = '6.1.0-18-amd64';
    const d = decide(input({ release, kernel_release_override: release, kernel_version_override: '#1 SMP Debian 6.1.76-1 (2024-02-01)' }));
    assert.equal(d.evidence.kernel.what_if, true);
  });
});

describe('CLI: --kernel-version and --version-signature', () => {
  test('check --json judges the release with its uname -v / version signature', () => {
    const run = (args: string[]) => runCli(['check', '--json', '--selftest', 'never', '--kernel-release', ...args, root], { env });
    const deb = run([DEB_RELEASE, '--kernel-version', DEB_FIXED]);
    assert.notEqual(deb.code, 1, deb.stderr);
    const d = JSON.parse(deb.stdout) as Judged;
    assert.equal(d.evidence.kernel.status.status, 'fixed');
    assert.equal(d.evidence.kernel.parsed.package_version, '5.4.69-1~bpo10+1');
    const ub = JSON.parse(run([UB_RELEASE.replace('1036-azure', '55-generic'), '--version-signature', UB_SIG]).stdout) as Judged;
    assert.equal(ub.evidence.kernel.status.status, 'fixed');
    assert.equal(ub.evidence.kernel.parsed.package_version, '5.4.0-55.61');
  });
  test('explain shows the package version and the rule', () => {
    const r = runCli(['explain', '--kernel-release', DEB_RELEASE, '--kernel-version', DEB_FIXED, root], { env });
    assert.match(r.stdout, /package 5\.4\.69-1~bpo10\+1/);
    assert.match(r.stdout, /debian-5\.4\.y/);
  });
  test('without --kernel-release, or not one printable line: exit 2, one line', () => {
    for (const args of [
      ['--kernel-version', DEB_FIXED],
      ['--version-signature', UB_SIG],
      ['--kernel-release', DEB_RELEASE, '--kernel-version', 'two\nlines'],
      ['--kernel-release', DEB_RELEASE, '--version-signature', 'x'.repeat(201)],
    ]) {
      const r = runCli(['check', '--selftest', 'never', ...args, root], { env });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});

describe('GET /v1/decision: kernel_release, kernel_version, version_signature', () => {
  test('query parameters judge the what-if kernel; bad combinations are a 400', async (t) => {
    const state = new ServiceState();
    const policy = { ...defaultPolicy(), allowed_roots: [root], source: 'test policy' };
    const app = await buildApp({ policy, knowledgeBase: loadKnowledgeBase(), stateDir: path.join(base, 'svc-state'), state, logger: false });
    t.after(() => app.close());
    await app.ready();
    state.markReady(await probeKernel(), []);
    const q = (extra: string) => `/v1/decision?selftest=never&path=${encodeURIComponent(root)}${extra}`;
    const enc = encodeURIComponent;
    const r = await app.inject({ url: q(`&kernel_release=${enc(DEB_RELEASE)}&kernel_version=${enc(DEB_FIXED)}`) });
    assert.equal(r.statusCode, 200, r.body);
    const d = r.json<Judged>();
    assert.equal(d.evidence.kernel.what_if, true);
    assert.equal(d.evidence.kernel.status.status, 'fixed');
    const sig = await app.inject({ url: q(`&kernel_release=5.4.0-54-generic&version_signature=${enc('Ubuntu 5.4.0-54.60-generic 5.4.65')}`) });
    assert.equal(sig.json<Judged>().evidence.kernel.status.rule, 'ubuntu-5.4-signature-base-before-5.4.69');
    for (const bad of [`&kernel_version=${enc(DEB_FIXED)}`, '&kernel_release=not%20a%20release', `&kernel_release=${enc(DEB_RELEASE)}&kernel_version=${enc('a\u0001b')}`]) {
      const b = await app.inject({ url: q(bad) });
      assert.equal(b.statusCode, 400, `${bad}: ${b.body}`);
    }
    const long = await app.inject({ url: q(`&kernel_release=5.4.${'9'.repeat(150)}`) });
    assert.equal(long.statusCode, 200, long.body);
    // the filesystem here may rule the race out; the kernel part must be unknown, not an internal error
    assert.equal(long.json<Judged>().evidence.kernel.status.status, 'unknown');
  });
});
