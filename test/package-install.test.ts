// The packed tarball installed as a user would: `npm install -g` into a fresh prefix on a PATH
// with no compiler (no cc, c++, make, python), then `xfsguard check` and a real self-test on a
// loop-mounted XFS through the prebuilt addon. Without a usable prebuild the install still
// succeeds and every command says why the self-test cannot run.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ensurePrebuild, have } from './helpers/prebuild.js';
import { REPO_ROOT } from './helpers/run-cli.js';
import { loopFsOrSkip } from './helpers/scratch-fs.js';

const work = mkdtempSync(path.join('/var/tmp', 'xfsguard-package-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

const COMPILERS = /^(cc|c\+\+|c89.*|c99.*|gcc.*|g\+\+.*|cpp.*|make|gmake|clang.*|ld|ld\..*|as|python.*|x86_64-linux-gnu-.*)$/;

/** A PATH with every command of the system's bin folders but the compilers, make and python. */
function pathWithoutCompilers(): string {
  const bin = path.join(work, 'bin');
  if (existsSync(bin)) return bin;
  mkdirSync(bin);
  symlinkSync(process.execPath, path.join(bin, 'node'));
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (!COMPILERS.test(name) && !existsSync(path.join(bin, name))) symlinkSync(path.join(dir, name), path.join(bin, name));
    }
  }
  return bin;
}

function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // Nothing of the outer `npm test` (npm_config_prefix …) leaks into the user's install.
  return { PATH: pathWithoutCompilers(), HOME: process.env.HOME, LANG: 'C.UTF-8', TMPDIR: work, ...extra };
}

/** Why this cannot run here, or null; makes the prebuild when stale. */
function unavailable(): string | null {
  if (!have('npm') || !have('tar')) return 'npm and tar are needed';
  return ensurePrebuild();
}

let packed: string | undefined;
function tarball(): string {
  if (packed !== undefined) return packed;
  const r = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  packed = path.join(work, (JSON.parse(r.stdout) as { filename: string }[])[0]!.filename);
  return packed;
}

function installGlobal(tgz: string, prefix: string): { code: number | null; out: string } {
  const npmCli = realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
  const r = spawnSync(process.execPath, [npmCli, 'install', '-g', tgz, '--prefix', prefix, `--allow-scripts=${tgz}`,
    '--foreground-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=warn'], { env: cleanEnv(), encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

function xfsguard(prefix: string, args: string[]) {
  const policy = path.join(work, 'policy.json');
  writeFileSync(policy, JSON.stringify({ mode: 'conservative' }));
  const r = spawnSync(path.join(prefix, 'bin', 'xfsguard'), args, {
    env: cleanEnv({ XFSGUARD_POLICY: policy, XFSGUARD_STATE_DIR: path.join(prefix, 'state') }), encoding: 'utf8', timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the PATH given to the installs really has no compiler', () => {
  for (const cmd of ['cc', 'c++', 'g++', 'make', 'python3']) assert.equal(have(cmd, cleanEnv()), false, `${cmd} is out of reach`);
  assert.equal(have('node', cleanEnv()) && have('tar', cleanEnv()), true);
});

test('npm install -g of the tarball without a compiler: check answers, a real self-test runs on XFS', { timeout: 600_000 }, (t) => {
  const why = unavailable();
  if (why !== null) {
    t.skip(why);
    return;
  }
  const xfs = loopFsOrSkip(t, 'xfs');
  if (xfs === null) return;
  const prefix = path.join(work, 'prefix');
  const inst = installGlobal(tarball(), prefix);
  assert.equal(inst.code, 0, inst.out);
  assert.doesNotMatch(inst.out, /^(gyp (ERR|info)|xfsguard: no prebuilt addon loads)/m, 'the prebuild was used, nothing compiled');
  const pkgDir = path.join(prefix, 'lib', 'node_modules', 'xfsguard');
  assert.equal(existsSync(path.join(pkgDir, 'build')), false, 'no build/ in the installed package');

  const check = xfsguard(prefix, ['check', xfs.mountPoint, '--json', '--selftest', 'always']);
  assert.ok([0, 10, 11].includes(check.code ?? -1), `check answered: ${check.code} ${check.stderr}`);
  const decision = JSON.parse(check.stdout) as { verdict: string; evidence: { filesystem: { fs_type: string } } };
  assert.equal(decision.evidence.filesystem.fs_type, 'xfs');
  assert.match(decision.verdict, /^(affected|fixed|not_affected|unknown)$/);

  const st = xfsguard(prefix, ['selftest', xfs.mountPoint, '--json', '--engine', 'all', '--mode', 'zero-range', '--budget-ms', '10000']);
  const report = JSON.parse(st.stdout) as { outcome: string; runs: { engine: string; iterations: number; in_flight_iterations: number; reason: { stage: string } | null }[] };
  assert.equal(report.runs.some((r) => r.reason?.stage === 'native_addon'), false, `the addon loaded: ${st.stdout}`);
  assert.match(report.outcome, /^(reproduced|not_reproduced)$/, st.stdout);
  assert.equal(st.code, report.outcome === 'reproduced' ? 10 : 0);
  assert.ok(report.runs.some((r) => r.iterations > 0 && r.in_flight_iterations > 0), 'writes really were in flight');
  t.diagnostic(`self-test through the prebuild: ${report.outcome}; ${report.runs.map((r) => `${r.engine} ${r.iterations} it`).join(', ')}`);
});

test('without a usable prebuild and without a compiler the install still succeeds; commands say why', { timeout: 600_000 }, (t) => {
  const why = unavailable();
  if (why !== null) {
    t.skip(why);
    return;
  }
  const unpack = path.join(work, 'unpack');
  mkdirSync(unpack, { recursive: true });
  execFileSync('tar', ['xzf', tarball(), '-C', unpack]);
  rmSync(path.join(unpack, 'package', 'prebuilds'), { recursive: true, force: true });
  const bare = path.join(work, 'xfsguard-no-prebuild.tgz');
  execFileSync('tar', ['czf', bare, '-C', unpack, 'package']);

  const prefix = path.join(work, 'prefix-bare');
  const inst = installGlobal(bare, prefix);
  assert.equal(inst.code, 0, inst.out);
  assert.match(inst.out, /^xfsguard: no prebuilt addon loads here and building it failed/m);
  assert.match(inst.out, /^gyp ERR! /m, 'the node-gyp fallback was tried');

  const dir = mkdtempSync(path.join(work, 'images-'));
  const check = xfsguard(prefix, ['check', dir]);
  assert.ok([0, 10, 11].includes(check.code ?? -1), `check answered: ${check.code} ${check.stderr}`);
  assert.match(check.stdout, /workaround/);
  const st = xfsguard(prefix, ['selftest', dir, '--json', '--engine', 'aio', '--mode', 'zero-range']);
  assert.equal(st.code, 11, st.stderr);
  const report = JSON.parse(st.stdout) as { outcome: string; reason: string; runs: { reason: { stage: string; message: string } | null }[] };
  assert.equal(report.outcome, 'unsupported');
  assert.equal(report.runs[0]?.reason?.stage, 'native_addon');
  assert.match(report.runs[0]?.reason?.message ?? '', /no prebuilt one for this platform/);
});
