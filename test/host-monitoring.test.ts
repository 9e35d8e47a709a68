// Monitoring as Prometheus tools see it: promtool on the boot check's textfile (rendered and written
// by a real boot check), promtool check/test on the shipped rules, and where the textfile goes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import type { BootCheckReport } from '../service/host/boot-check.js';
import { countImageFiles } from '../service/host/image-files.js';
import { KNOWN_TEXTFILE_DIRS, detectTextfileDir, renderTextfile } from '../service/host/textfile.js';
import { sampleReport } from './helpers/boot-report.js';
import { runCli } from './helpers/run-cli.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MONITORING = path.join(ROOT, 'service/monitoring');
const work = mkdtempSync(path.join('/var/tmp', 'xfsguard-monitoring-'));
chmodSync(work, 0o755);
test.after(() => rmSync(work, { recursive: true, force: true }));

/** promtool, or a skip saying how to get it (CI installs Debian's prometheus package). */
function promtool(t: TestContext, args: string[], input?: string): { code: number; out: string } | null {
  const r = spawnSync('promtool', args, { input, encoding: 'utf8', cwd: MONITORING, timeout: 60_000 });
  if (r.error !== undefined && 'code' in r.error && r.error.code === 'ENOENT') {
    t.skip('promtool is not installed (apt-get install prometheus)');
    return null;
  }
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}


test('textfile: promtool check metrics passes; build_info carries version and knowledge-base revision; every family a gauge', (t) => {
  const text = renderTextfile(sampleReport());
  const r = promtool(t, ['check', 'metrics'], text);
  if (r === null) return;
  assert.equal(r.code, 0, r.out);
  assert.equal(r.out.trim(), '', `no lint findings: ${r.out}`);
  assert.match(text, /^xfsguard_build_info\{version="0\.1\.0",knowledge_base_revision="2026-11-24\.2"\} 1$/m);
  assert.match(text, /^# TYPE xfsguard_selftest_duration_seconds gauge$/m);
  assert.match(text, /^xfsguard_root_image_files\{root="\/var\/lib\/libvirt\/images"\} 1$/m);
  assert.deepEqual([...new Set([...text.matchAll(/^# TYPE \S+ (\S+)$/gm)].map((m) => m[1]))], ['gauge']);
});

test('textfile written by a real boot check passes promtool, with decision ids and image counts', (t) => {
  const images = path.join(work, 'images');
  mkdirSync(path.join(images, '100'), { recursive: true });
  writeFileSync(path.join(images, 'vm1.qcow2'), '');
  writeFileSync(path.join(images, '100', 'vm-100-disk-0.raw'), '');
  writeFileSync(path.join(images, 'notes.txt'), '');
  const policy = path.join(work, 'policy.json');
  writeFileSync(policy, JSON.stringify({ allowed_roots: [images] }));
  const prom = path.join(work, 'prom');
  const r = runCli(['boot-check', '--json', '--policy', policy, '--state-dir', path.join(work, 'state'), '--nfd-file', 'off', '--textfile', prom, '--selftest', 'auto', '--budget-ms', '2000', '--iterations', '5']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as BootCheckReport;
  const root = report.roots[0]!;
  assert.match(root.decision_id ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(Number.isFinite(Date.parse(root.decided_at ?? '')));
  assert.equal(root.image_files, 2);
  assert.equal(report.knowledge_base_revision.length > 0, true);
  const stored = JSON.parse(readFileSync(path.join(work, 'state', 'boot-check.json'), 'utf8')) as BootCheckReport;
  assert.equal(stored.roots[0]!.decision_id, root.decision_id, 'the boot-check file carries the same id');
  const text = readFileSync(path.join(prom, 'xfsguard.prom'), 'utf8');
  const c = promtool(t, ['check', 'metrics'], text);
  if (c === null) return;
  assert.equal(c.code, 0, c.out);
  assert.equal(c.out.trim(), '', c.out);
});

test('rules: promtool check rules and promtool test rules (sample series for every alert) pass', (t) => {
  const check = promtool(t, ['check', 'rules', 'xfsguard.rules.yml']);
  if (check === null) return;
  assert.equal(check.code, 0, check.out);
  assert.match(check.out, /SUCCESS: 6 rules found/);
  const unit = promtool(t, ['test', 'rules', 'xfsguard.rules.test.yml']);
  assert.equal(unit?.code, 0, unit?.out);
  assert.match(unit?.out ?? '', /SUCCESS/);
  // Every alert in the rules file has a unit test.
  const rules = readFileSync(path.join(MONITORING, 'xfsguard.rules.yml'), 'utf8');
  const tests = readFileSync(path.join(MONITORING, 'xfsguard.rules.test.yml'), 'utf8');
  for (const [, name] of rules.matchAll(/- alert: (\S+)/g)) assert.match(tests, new RegExp(`alertname: ${name}\\n`), `${name} is tested`);
});

test('textfile directory: Debian\'s node-exporter directory first, then Fedora\'s; none when neither exists', () => {
  assert.equal(KNOWN_TEXTFILE_DIRS[0], '/var/lib/prometheus/node-exporter');
  assert.equal(detectTextfileDir((d) => d === '/var/lib/prometheus/node-exporter' || d === '/var/lib/node_exporter/textfile_collector'), '/var/lib/prometheus/node-exporter');
  assert.equal(detectTextfileDir((d) => d === '/var/lib/node_exporter/textfile_collector'), '/var/lib/node_exporter/textfile_collector');
  assert.equal(detectTextfileDir(() => false), null);
  // real directories
  const deb = path.join(work, 'debian-node-exporter');
  mkdirSync(deb);
  assert.equal(detectTextfileDir(undefined, [path.join(work, 'absent'), deb]), deb);
});

test('boot-check writes the textfile into a detected directory; "off" disables it', () => {
  const policy = path.join(work, 'policy-off.json');
  writeFileSync(policy, JSON.stringify({ allowed_roots: [path.join(work, 'nothing-here')] }));
  const r = runCli(['boot-check', '--json', '--policy', policy, '--state-dir', path.join(work, 'state-off'), '--nfd-file', 'off', '--textfile', 'off']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as BootCheckReport;
  assert.deepEqual([report.outputs.textfile.written, report.outputs.textfile.note], [false, 'disabled']);
});

test('image files: counted by name, bounded by entries and depth, symlinks not followed', async () => {
  const dir = path.join(work, 'walk');
  mkdirSync(path.join(dir, 'a', 'b', 'c'), { recursive: true });
  for (const f of ['x.qcow2', 'a/disk.img', 'a/b/y.vmdk', 'a/b/c/z.RAW', 'a/readme', 'a/b/c/w.iso']) writeFileSync(path.join(dir, f), '');
  symlinkSync(path.join(dir, 'a'), path.join(dir, 'loop-to-a'));
  symlinkSync(path.join(dir, 'x.qcow2'), path.join(dir, 'link.qcow2'));
  assert.deepEqual(await countImageFiles(dir), { files: 5, truncated: false });
  assert.deepEqual(await countImageFiles(dir, { maxDepth: 1 }), { files: 2, truncated: true });
  const few = await countImageFiles(dir, { maxEntries: 2 });
  assert.equal(few.truncated, true);
  assert.deepEqual(await countImageFiles(path.join(work, 'does-not-exist')), { files: 0, truncated: false });
});
