// install / uninstall into a staging root: files, modes, idempotence, the operator's policy kept,
// uninstall leaving policy and state unless --purge, and the installed units verified.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CLI, REPO_ROOT, runCli } from './helpers/run-cli.js';

const work = mkdtempSync(path.join('/var/tmp', 'xfsguard-install-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(root, p));
    }
  };
  if (existsSync(root)) walk(root);
  return out.sort();
}

const mode = (p: string) => statSync(p).mode & 0o7777;

test('install into a staging root: command, units, default policy; idempotent; dry run changes nothing', () => {
  const root = path.join(work, 'r1');
  // Staged with the target paths named: the wrapper runs this checkout with this node.
  const here = ['--package-dir', REPO_ROOT, '--node', process.execPath];
  const dry = runCli(['install', '--root', root, '--dry-run', ...here]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /would write\s+\S+\/usr\/local\/bin\/xfsguard/);
  assert.equal(existsSync(root), false, 'dry run wrote nothing');

  const r = runCli(['install', '--root', root, ...here]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /systemctl/, 'no systemctl advice or runs for a staging root');
  assert.deepEqual(tree(root), [
    'etc/xfsguard/api-token',
    'etc/xfsguard/policy.json',
    'usr/lib/systemd/system/xfsguard-boot.service',
    'usr/lib/systemd/system/xfsguard-refresh.service',
    'usr/lib/systemd/system/xfsguard-refresh.timer',
    'usr/lib/systemd/system/xfsguard.service',
    'usr/local/bin/xfsguard',
  ]);
  assert.equal(mode(path.join(root, 'etc/xfsguard/api-token')), 0o640, 'the API token (issue 8.4) is not world-readable');
  const wrapper = path.join(root, 'usr/local/bin/xfsguard');
  assert.equal(mode(wrapper), 0o755);
  assert.equal(mode(path.join(root, 'usr/lib/systemd/system/xfsguard.service')), 0o644);
  assert.match(readFileSync(wrapper, 'utf8'), new RegExp(`exec '${process.execPath}' '${CLI}' "\\$@"`));
  // The wrapper runs this checkout's CLI.
  const v = spawnSync(wrapper, ['--version'], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout.trim(), (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  const boot = readFileSync(path.join(root, 'usr/lib/systemd/system/xfsguard-boot.service'), 'utf8');
  assert.match(boot, /^ExecStart=\/usr\/local\/bin\/xfsguard boot-check$/m);
  assert.deepEqual(JSON.parse(readFileSync(path.join(root, 'etc/xfsguard/policy.json'), 'utf8')), JSON.parse(readFileSync(path.join(REPO_ROOT, 'service/systemd/policy.json'), 'utf8')));

  const before = tree(root).map((f) => [f, statSync(path.join(root, f)).mtimeMs]);
  const again = runCli(['install', '--root', root, ...here]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal((again.stdout.match(/unchanged/g) ?? []).length, 5, again.stdout);
  assert.match(again.stdout, /kept \(exists; not overwritten\)\s+\S+policy\.json/);
  assert.deepEqual(tree(root).map((f) => [f, statSync(path.join(root, f)).mtimeMs]), before, 'second run touched nothing');
});

test('an existing policy is never overwritten, and the units name its allowed roots; --prefix', () => {
  const root = path.join(work, 'r2');
  mkdirSync(path.join(root, 'etc/xfsguard'), { recursive: true });
  const mine = JSON.stringify({ allowed_roots: ['/data/vm images', '/srv/vm'] });
  writeFileSync(path.join(root, 'etc/xfsguard/policy.json'), mine);
  const r = runCli(['install', '--root', root, '--prefix', '/opt/xfsguard']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(path.join(root, 'etc/xfsguard/policy.json'), 'utf8'), mine);
  assert.ok(existsSync(path.join(root, 'opt/xfsguard/bin/xfsguard')));
  const api = readFileSync(path.join(root, 'usr/lib/systemd/system/xfsguard.service'), 'utf8');
  assert.match(api, /^ExecStart=\/opt\/xfsguard\/bin\/xfsguard serve$/m);
  assert.deepEqual([...api.matchAll(/^ReadWritePaths=(.*)$/gm)].map((m) => m[1]), ['"-/data/vm images"', '-/srv/vm']);
  assert.match(readFileSync(path.join(root, 'usr/lib/systemd/system/xfsguard-boot.service'), 'utf8'), /^RequiresMountsFor="\/data\/vm images" \/srv\/vm$/m);
  // A broken policy: install refuses rather than writing units with guessed roots.
  writeFileSync(path.join(root, 'etc/xfsguard/policy.json'), '{"allowed_roots": 3}');
  const bad = runCli(['install', '--root', root, '--prefix', '/opt/xfsguard']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /allowed_roots/);
});

test('installed units pass systemd-analyze verify (command path substituted by the staged one)', (t) => {
  const analyze = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' });
  if (analyze.status !== 0) {
    t.diagnostic('skipped: systemd-analyze is not installed (apt-get install systemd)');
    t.skip('systemd-analyze missing');
    return;
  }
  const root = path.join(work, 'r3');
  assert.equal(runCli(['install', '--root', root]).code, 0);
  const dir = path.join(work, 'r3-verify');
  mkdirSync(dir);
  const staged = path.join(root, 'usr/local/bin/xfsguard');
  const files = ['xfsguard-boot.service', 'xfsguard.service', 'xfsguard-refresh.service', 'xfsguard-refresh.timer'].map((n) => {
    const f = path.join(dir, n);
    writeFileSync(f, readFileSync(path.join(root, 'usr/lib/systemd/system', n), 'utf8').replace(/^ExecStart=\/usr\/local\/bin\/xfsguard/gm, `ExecStart=${staged}`));
    return f;
  });
  const r = spawnSync(analyze.stdout.trim(), ['verify', ...files], { encoding: 'utf8', cwd: dir });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

test('uninstall leaves policy and state; --purge removes them; foreign files are kept', () => {
  const root = path.join(work, 'r4');
  assert.equal(runCli(['install', '--root', root]).code, 0);
  mkdirSync(path.join(root, 'var/lib/xfsguard'), { recursive: true });
  writeFileSync(path.join(root, 'var/lib/xfsguard/selftest-254-0.json'), '{}');
  const dry = runCli(['uninstall', '--root', root, '--dry-run', '--purge']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /would remove/);
  assert.equal(tree(root).length, 8, 'dry run removed nothing');

  const u = runCli(['uninstall', '--root', root]);
  assert.equal(u.code, 0, u.stderr);
  assert.deepEqual(tree(root), ['etc/xfsguard/api-token', 'etc/xfsguard/policy.json', 'var/lib/xfsguard/selftest-254-0.json']);
  const again = runCli(['uninstall', '--root', root]);
  assert.equal(again.code, 0, 'idempotent');
  assert.match(again.stdout, /not present/);

  // A command at PREFIX/bin/xfsguard that install did not write is someone else's: install keeps it too.
  const foreignRoot = path.join(work, 'r4-foreign');
  mkdirSync(path.join(foreignRoot, 'usr/local/bin'), { recursive: true });
  writeFileSync(path.join(foreignRoot, 'usr/local/bin/xfsguard'), '#!/bin/sh\necho another xfsguard\n');
  const kept = runCli(['install', '--root', foreignRoot]);
  assert.equal(kept.code, 0, kept.stderr);
  assert.match(kept.stdout, /kept.*usr\/local\/bin\/xfsguard/);
  assert.equal(readFileSync(path.join(foreignRoot, 'usr/local/bin/xfsguard'), 'utf8'), '#!/bin/sh\necho another xfsguard\n');
  mkdirSync(path.join(root, 'usr/local/bin'), { recursive: true });
  writeFileSync(path.join(root, 'usr/local/bin/xfsguard'), '#!/bin/sh\necho another xfsguard\n');
  const p = runCli(['uninstall', '--root', root, '--purge']);
  assert.equal(p.code, 0, p.stderr);
  assert.deepEqual(tree(root), ['usr/local/bin/xfsguard']);
  assert.match(p.stdout, /kept \(not written by xfsguard\)/);
});

test('--libvirt-hook installs the shim into qemu.d/ with the command filled in, never over a foreign hook', () => {
  const root = path.join(work, 'r5');
  // An earlier xfsguard's hook in /etc/libvirt/hooks/qemu is replaced by the qemu.d/ one.
  mkdirSync(path.join(root, 'etc/libvirt/hooks'), { recursive: true });
  writeFileSync(path.join(root, 'etc/libvirt/hooks/qemu'), '#!/bin/sh\n# xfsguard libvirt hook\n');
  const r = runCli(['install', '--root', root, '--libvirt-hook']);
  assert.equal(r.code, 0, r.stderr);
  const hook = path.join(root, 'etc/libvirt/hooks/qemu.d/50-xfsguard');
  assert.equal(mode(hook), 0o755);
  assert.equal(existsSync(path.join(root, 'etc/libvirt/hooks/qemu')), false, 'the legacy hook of ours is removed');
  assert.match(readFileSync(hook, 'utf8'), /^xfsguard_default='\/usr\/local\/bin\/xfsguard'$/m);
  const other = path.join(work, 'r6');
  mkdirSync(path.join(other, 'etc/libvirt/hooks/qemu.d'), { recursive: true });
  writeFileSync(path.join(other, 'etc/libvirt/hooks/qemu'), '#!/bin/sh\nexit 0\n');
  writeFileSync(path.join(other, 'etc/libvirt/hooks/qemu.d/50-xfsguard'), '#!/bin/sh\nexit 0\n');
  const k = runCli(['install', '--root', other, '--libvirt-hook']);
  assert.equal(k.code, 0, k.stderr);
  assert.equal(readFileSync(path.join(other, 'etc/libvirt/hooks/qemu'), 'utf8'), '#!/bin/sh\nexit 0\n');
  assert.equal(readFileSync(path.join(other, 'etc/libvirt/hooks/qemu.d/50-xfsguard'), 'utf8'), '#!/bin/sh\nexit 0\n');
  assert.match(k.stdout, /another program's hook/);
  assert.equal(runCli(['uninstall', '--root', other]).code, 0);
  assert.ok(existsSync(path.join(other, 'etc/libvirt/hooks/qemu')), 'uninstall keeps a foreign hook');
  assert.equal(runCli(['uninstall', '--root', root]).code, 0);
  assert.equal(existsSync(hook), false, 'uninstall removes our hook');
});

test('install usage errors', () => {
  assert.equal(runCli(['install', '--prefix', 'relative']).code, 2);
  assert.equal(runCli(['install', '--root', path.join(work, 'r7'), '--enable']).code, 2);
  assert.equal(runCli(['uninstall', 'extra']).code, 2);
});

test('--libvirt-hook with a "$" in the prefix: filled in literally (no replacement patterns)', () => {
  const root = path.join(work, 'r8');
  const r = runCli(['install', '--root', root, '--libvirt-hook', '--prefix', "/opt/x$&y$'z"]);
  assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(path.join(root, 'etc/libvirt/hooks/qemu.d/50-xfsguard'), 'utf8');
  assert.ok(text.includes(`xfsguard_default='/opt/x$&y$'\\''z/bin/xfsguard'\n`), 'command path written literally');
});

/** Every file under root whose content names one of the needles. */
function filesNaming(root: string, needles: readonly string[]): string[] {
  return tree(root).filter((f) => {
    const text = readFileSync(path.join(root, f), 'utf8');
    return needles.some((n) => text.includes(n));
  });
}

test('a staged install (DESTDIR) writes no path of the build tree: vendor units, target node and package', () => {
  const root = path.join(work, 'r9');
  const r = runCli(['install', '--root', root, '--prefix', '/usr', '--libvirt-hook']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /shadows the vendor one/, 'nothing to migrate: not listed');
  assert.deepEqual(tree(root), [
    'etc/libvirt/hooks/qemu.d/50-xfsguard',
    'etc/xfsguard/policy.json',
    'usr/bin/xfsguard',
    'usr/lib/systemd/system/xfsguard-boot.service',
    'usr/lib/systemd/system/xfsguard-refresh.service',
    'usr/lib/systemd/system/xfsguard-refresh.timer',
    'usr/lib/systemd/system/xfsguard.service',
  ], 'nothing in /etc/systemd/system: that is the operator\'s');
  const needles = [REPO_ROOT, root, work, ...(process.execPath === '/usr/bin/node' ? [] : [process.execPath])];
  assert.deepEqual(filesNaming(root, needles), [], 'no build-tree, staging-root or build-node path in what was written');
  assert.match(readFileSync(path.join(root, 'usr/bin/xfsguard'), 'utf8'), /^exec '\/usr\/bin\/node' '\/usr\/lib\/node_modules\/xfsguard\/dist\/service\/cli\/xfsguard\.js' "\$@"$/m);
  for (const unit of ['xfsguard.service', 'xfsguard-boot.service']) {
    assert.match(readFileSync(path.join(root, 'usr/lib/systemd/system', unit), 'utf8'), /^ExecStart=\/usr\/bin\/xfsguard /m);
  }
  // Named target paths are used as given; a relative one is bad usage.
  const other = path.join(work, 'r9b');
  assert.equal(runCli(['install', '--root', other, '--package-dir', '/opt/xfsguard/lib', '--node', '/opt/node/bin/node']).code, 0);
  assert.match(readFileSync(path.join(other, 'usr/local/bin/xfsguard'), 'utf8'), /^exec '\/opt\/node\/bin\/node' '\/opt\/xfsguard\/lib\/dist\/service\/cli\/xfsguard\.js' "\$@"$/m);
  for (const bad of [['--package-dir', 'lib'], ['--node', 'node'], ['--unit-dir', 'units']]) {
    const u = runCli(['install', '--root', other, ...bad]);
    assert.equal(u.code, 2, `${bad.join(' ')}: ${u.stderr}`);
    assert.match(u.stderr, new RegExp(`^xfsguard: .*${bad[0]} must be an absolute path`));
  }
});

test('units of an earlier install in /etc/systemd/system are moved to the vendor dir; the operator\'s are kept; --unit-dir', () => {
  const root = path.join(work, 'r10');
  const etc = path.join(root, 'etc/systemd/system');
  mkdirSync(etc, { recursive: true });
  // What an earlier install wrote there (the template, rendered), and an operator's own unit.
  writeFileSync(path.join(etc, 'xfsguard.service'), readFileSync(path.join(REPO_ROOT, 'service/systemd/xfsguard.service'), 'utf8'));
  writeFileSync(path.join(etc, 'xfsguard-boot.service'), '[Service]\nExecStart=/opt/site/xfsguard-boot\n');
  mkdirSync(path.join(etc, 'xfsguard.service.d'));
  writeFileSync(path.join(etc, 'xfsguard.service.d/override.conf'), '[Service]\nEnvironment=LOG_LEVEL=debug\n');
  const r = runCli(['install', '--root', root]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /removed\s+\S+etc\/systemd\/system\/xfsguard\.service\s+\(unit of an earlier xfsguard/);
  assert.match(r.stdout, /kept \(not written by xfsguard\)\s+\S+etc\/systemd\/system\/xfsguard-boot\.service/);
  assert.equal(existsSync(path.join(etc, 'xfsguard.service')), false);
  assert.equal(readFileSync(path.join(etc, 'xfsguard-boot.service'), 'utf8'), '[Service]\nExecStart=/opt/site/xfsguard-boot\n');
  assert.ok(existsSync(path.join(etc, 'xfsguard.service.d/override.conf')), 'drop-ins are the operator\'s');
  assert.ok(existsSync(path.join(root, 'usr/lib/systemd/system/xfsguard.service')));
  // Uninstall removes ours from both places and keeps the operator's.
  writeFileSync(path.join(etc, 'xfsguard-refresh.timer'), readFileSync(path.join(REPO_ROOT, 'service/systemd/xfsguard-refresh.timer'), 'utf8'));
  assert.equal(runCli(['uninstall', '--root', root]).code, 0);
  assert.deepEqual(tree(root).filter((f) => f.includes('systemd')), ['etc/systemd/system/xfsguard-boot.service', 'etc/systemd/system/xfsguard.service.d/override.conf']);

  // --unit-dir: a local admin's units in /etc, written in place.
  const local = path.join(work, 'r11');
  assert.equal(runCli(['install', '--root', local, '--unit-dir', '/etc/systemd/system']).code, 0);
  assert.deepEqual(tree(local).filter((f) => f.includes('systemd')), ['etc/systemd/system/xfsguard-boot.service', 'etc/systemd/system/xfsguard-refresh.service', 'etc/systemd/system/xfsguard-refresh.timer', 'etc/systemd/system/xfsguard.service']);
  const again = runCli(['install', '--root', local, '--unit-dir', '/etc/systemd/system']);
  assert.equal((again.stdout.match(/unchanged/g) ?? []).length, 5, again.stdout);
});
