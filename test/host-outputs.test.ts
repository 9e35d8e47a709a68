// Node-level outputs of the boot check: NFD feature file, Prometheus textfile, the boot-check
// command itself on this machine's filesystems (the VM test covers the real race).
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Verdict } from '../policies/decide.js';
import type { BootCheckReport } from '../service/host/boot-check.js';
import { NFD_RACE_LABEL, NFD_WORKAROUND_LABEL, isValidLabelKey, isValidLabelValue, nodeVerdict, renderNfdFeatures, writeNfdFile } from '../service/host/nfd.js';
import { escapeLabelValue, renderTextfile, writeTextfile } from '../service/host/textfile.js';
import { loopFsOrSkip } from './helpers/scratch-fs.js';
import { runCli } from './helpers/run-cli.js';

const work = mkdtempSync(path.join('/var/tmp', 'xfsguard-host-out-'));
chmodSync(work, 0o755);
test.after(() => rmSync(work, { recursive: true, force: true }));

// The Kubernetes regexes, written out here independently of the code under test.
const K8S_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const K8S_DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
function assertK8sLabel(key: string, value: string): void {
  const [prefix, name] = key.split('/') as [string, string];
  assert.ok(prefix.length <= 253 && K8S_DNS_SUBDOMAIN.test(prefix), `prefix ${prefix}`);
  assert.ok(name.length <= 63 && K8S_NAME.test(name), `name ${name}`);
  assert.ok(value.length <= 63 && (value === '' || K8S_NAME.test(value)), `value ${value}`);
}

test('node verdict: worst over the roots (affected > unknown > fixed > not_affected), none judged is unknown', () => {
  const cases: [Verdict[], Verdict][] = [
    [['not_affected', 'fixed'], 'fixed'],
    [['fixed', 'unknown', 'not_affected'], 'unknown'],
    [['unknown', 'affected', 'fixed'], 'affected'],
    [['not_affected'], 'not_affected'],
    [[], 'unknown'],
  ];
  for (const [input, want] of cases) assert.equal(nodeVerdict(input), want, input.join(','));
});

test('NFD feature file: valid Kubernetes labels, every verdict, expiry 25 h ahead in RFC 3339', () => {
  const now = new Date('2026-11-24T10:00:00.123Z');
  for (const verdict of ['affected', 'fixed', 'not_affected', 'unknown'] as const) {
    const text = renderNfdFeatures({ verdict, workaround_needed: verdict === 'affected' || verdict === 'unknown', now });
    const lines = text.trimEnd().split('\n');
    const expiry = lines.find((l) => l.startsWith('# +expiry-time='));
    assert.equal(expiry, '# +expiry-time=2026-11-25T11:00:00Z');
    const labels = lines.filter((l) => !l.startsWith('#'));
    assert.equal(labels.length, 2);
    const map = new Map(labels.map((l) => l.split('=') as [string, string]));
    assert.equal(map.get(NFD_RACE_LABEL), verdict);
    assert.equal(map.get(NFD_WORKAROUND_LABEL), String(verdict === 'affected' || verdict === 'unknown'));
    for (const [k, v] of map) assertK8sLabel(k, v);
    assert.ok(Buffer.byteLength(text) < 64 * 1024, 'within NFD\'s 64 kB limit');
  }
  assert.equal(isValidLabelKey('xfsguard.io/xfs-aio-fallocate-race'), true);
  assert.equal(isValidLabelKey('Bad_Prefix/x'), false);
  assert.equal(isValidLabelKey(`xfsguard.io/${'a'.repeat(64)}`), false);
  assert.equal(isValidLabelValue('not_affected'), true);
  assert.equal(isValidLabelValue('-bad'), false);
});

test('NFD file is replaced atomically: no dot-file left, old content replaced whole', async () => {
  const dir = path.join(work, 'features.d');
  const file = path.join(dir, 'xfsguard');
  await writeNfdFile(file, { verdict: 'unknown', workaround_needed: true, now: new Date() });
  await writeNfdFile(file, { verdict: 'fixed', workaround_needed: false, now: new Date() });
  assert.deepEqual(readdirSync(dir), ['xfsguard']);
  assert.match(readFileSync(file, 'utf8'), /race=fixed\n/);
});

function fakeReport(): BootCheckReport {
  const root = (r: string, verdict: Verdict | null, outcome: 'reproduced' | 'not_reproduced' | 'unsupported' | null) => ({
    root: r, status: verdict === null ? ('missing' as const) : ('judged' as const), device: '254:0', fs_type: 'xfs', verdict,
    enable_workaround: verdict === null ? null : verdict === 'affected' || verdict === 'unknown', reasons: [],
    decision_id: verdict === null ? null : '0b7e4c1a-7d1e-4a51-9d0e-6f1f2a3b4c5d', decided_at: verdict === null ? null : '2026-11-24T10:00:01.000Z',
    image_files: verdict === null ? null : 2,
    selftest: outcome === null ? null : { device: '254:0', outcome, ran: true, shared_with: null, duration_ms: 1500, iterations: 10, reproductions: outcome === 'reproduced' ? 3 : 0, reason: null },
    error: null,
  });
  return {
    format: 'xfsguard-boot-check', format_version: 1, started_at: '2026-11-24T10:00:00.000Z', finished_at: '2026-11-24T10:00:02.000Z',
    duration_ms: 2000, budget_ms: 60000, kernel_release: '6.1.192', boot_id: 'b', xfsguard_version: '0.1.0', knowledge_base_revision: '2026-11-24.2', policy_source: 'x', state_dir: '/var/lib/xfsguard',
    node: { verdict: 'affected', enable_workaround: true },
    roots: [root('/srv/vm "quoted"\\back\nslash', 'affected', 'reproduced'), root('/var/lib/libvirt/images', 'fixed', 'unsupported'), root('/gone', null, null)],
    outputs: { state: { path: null, written: false, note: null }, nfd: { path: null, written: false, note: null }, textfile: { path: null, written: false, note: null } },
  };
}

test('textfile: HELP/TYPE per family, escaped label values, parseable samples', async () => {
  assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  const text = renderTextfile(fakeReport());
  assert.ok(text.endsWith('\n'));
  const families = new Map<string, { help: boolean; type: string | null; samples: number }>();
  // The exposition format: a sample is NAME{LABELS} VALUE, label values in double quotes with \\ \" \n escapes.
  const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\[\\"n]|[^\\"\n])*")(,[a-zA-Z_][a-zA-Z0-9_]*="(\\[\\"n]|[^\\"\n])*")*\})? (-?[0-9.eE+-]+|NaN)$/;
  for (const line of text.trimEnd().split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.+)$/.exec(line);
    if (meta !== null) {
      const f = families.get(meta[2] as string) ?? { help: false, type: null, samples: 0 };
      if (meta[1] === 'HELP') f.help = true;
      else f.type = meta[3] as string;
      families.set(meta[2] as string, f);
      continue;
    }
    const m = sample.exec(line);
    assert.ok(m !== null, `not a valid sample line: ${line}`);
    const f = families.get(m[1] as string);
    assert.ok(f?.help === true && f.type === 'gauge', `HELP and TYPE before ${m[1]}`);
    f.samples++;
  }
  for (const name of ['xfsguard_workaround_needed', 'xfsguard_selftest_reproduced', 'xfsguard_selftest_duration_seconds', 'xfsguard_boot_check_timestamp_seconds', 'xfsguard_node_workaround_needed']) {
    assert.ok((families.get(name)?.samples ?? 0) > 0, `${name} present`);
  }
  assert.match(text, /xfsguard_workaround_needed\{root="\/srv\/vm \\"quoted\\"\\\\back\\nslash",verdict="affected"\} 1/);
  assert.match(text, /xfsguard_workaround_needed\{root="\/var\/lib\/libvirt\/images",verdict="fixed"\} 0/);
  // An unsupported self-test is not "not reproduced": no reproduced sample for it, supported 0.
  assert.doesNotMatch(text, /xfsguard_selftest_reproduced\{root="\/var\/lib\/libvirt\/images"/);
  assert.match(text, /xfsguard_selftest_supported\{root="\/var\/lib\/libvirt\/images",device="254:0"\} 0/);
  assert.match(text, /xfsguard_boot_check_timestamp_seconds 1795514402\n/);
  const dir = path.join(work, 'textfile');
  await writeTextfile(dir, fakeReport());
  assert.deepEqual(readdirSync(dir), ['xfsguard.prom']);
});

test('boot-check on this machine: missing root reported, outputs written, JSON document, exit 0', () => {
  const images = path.join(work, 'bc-images');
  mkdirSync(images, { recursive: true });
  const policy = path.join(work, 'bc-policy.json');
  writeFileSync(policy, JSON.stringify({ allowed_roots: [images, path.join(work, 'bc-missing')] }));
  const state = path.join(work, 'bc-state');
  const nfd = path.join(work, 'bc-nfd', 'features.d', 'xfsguard');
  const prom = path.join(work, 'bc-prom');
  const r = runCli(['boot-check', '--json', '--policy', policy, '--state-dir', state, '--nfd-file', nfd, '--textfile', prom]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as BootCheckReport;
  assert.equal(report.format, 'xfsguard-boot-check');
  assert.deepEqual(report.roots.map((x) => [x.root, x.status]), [[images, 'judged'], [path.join(work, 'bc-missing'), 'missing']]);
  assert.ok(report.roots[0]?.verdict !== null);
  assert.deepEqual([report.outputs.state.written, report.outputs.nfd.written, report.outputs.textfile.written], [true, true, true]);
  assert.deepEqual((JSON.parse(readFileSync(path.join(state, 'boot-check.json'), 'utf8')) as BootCheckReport).roots, report.roots);
  assert.match(readFileSync(nfd, 'utf8'), new RegExp(`^${NFD_RACE_LABEL}=${report.node.verdict}$`, 'm'));
  assert.ok(existsSync(path.join(prom, 'xfsguard.prom')));

  // The summary: one line per root.
  const text = runCli(['boot-check', '--policy', policy, '--state-dir', state, '--nfd-file', 'off']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^  ${images}\\s+${report.roots[0]?.verdict}`, 'm'));
  assert.match(text.stdout, /bc-missing\s+missing: /);
  assert.match(text.stdout, /nfd: not written \(disabled\)/);
});

test('boot-check exit codes: bad policy 2, state directory not writable 1, --root overrides the policy', () => {
  const bad = path.join(work, 'bad-policy.json');
  writeFileSync(bad, '{"allowed_roots": "not a list"}');
  const r1 = runCli(['boot-check', '--policy', bad, '--state-dir', path.join(work, 's1'), '--nfd-file', 'off']);
  assert.equal(r1.code, 2, r1.stderr);
  assert.match(r1.stderr, /allowed_roots/);
  const r2 = runCli(['boot-check', '--policy', path.join(work, 'nope.json'), '--nfd-file', 'off']);
  assert.equal(r2.code, 2, 'a named policy that does not exist');
  const notADir = path.join(work, 'plain-file');
  writeFileSync(notADir, '');
  const good = path.join(work, 'good-policy.json');
  writeFileSync(good, JSON.stringify({ allowed_roots: [work] }));
  const r3 = runCli(['boot-check', '--policy', good, '--state-dir', path.join(notADir, 'state'), '--nfd-file', 'off']);
  assert.equal(r3.code, 1, r3.stderr);
  assert.match(r3.stderr, /cannot write the state directory/);
  const r4 = runCli(['boot-check', '--json', '--policy', good, '--root', '/proc', '--state-dir', path.join(work, 's4'), '--nfd-file', 'off']);
  assert.equal(r4.code, 0, r4.stderr);
  assert.deepEqual((JSON.parse(r4.stdout) as BootCheckReport).roots.map((x) => x.root), ['/proc']);
  const r5 = runCli(['boot-check', '--root', 'relative/dir', '--policy', good]);
  assert.equal(r5.code, 2);
});

test('boot-check on XFS: two roots on one filesystem are tested once; the stored result is reused by check', (t) => {
  const fs = loopFsOrSkip(t, 'xfs');
  if (fs === null) return;
  const a = path.join(fs.mountPoint, 'a');
  const b = path.join(fs.mountPoint, 'b');
  mkdirSync(a);
  mkdirSync(b);
  const state = path.join(work, 'xfs-state');
  const policy = path.join(work, 'xfs-policy.json');
  writeFileSync(policy, JSON.stringify({ allowed_roots: [a, b] }));
  const r = runCli(['boot-check', '--json', '--policy', policy, '--state-dir', state, '--nfd-file', 'off', '--budget-ms', '4000', '--iterations', '20']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as BootCheckReport;
  const [ra, rb] = report.roots;
  assert.equal(ra?.selftest?.ran, true);
  assert.notEqual(ra?.selftest?.outcome, 'unsupported', ra?.selftest?.reason ?? '');
  assert.equal(rb?.selftest?.ran, false);
  assert.equal(rb?.selftest?.shared_with, a);
  assert.ok(report.duration_ms < 4000 + 3000, `within the budget: ${report.duration_ms} ms`);
  assert.equal(readdirSync(state).filter((f) => f.startsWith('selftest-')).length, 1, 'one stored result per filesystem');
  const c = runCli(['check', '--json', '--selftest', 'never', '--policy', policy, '--state-dir', state, path.join(b, 'vm.qcow2')]);
  const d = JSON.parse(c.stdout) as { evidence: { selftest: { cached: boolean } | null; selftest_used: boolean } };
  assert.equal(d.evidence.selftest?.cached, true, 'answered from the stored boot-check result');
});
