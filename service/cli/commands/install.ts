import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../package-info.js';
import { ENABLE_UNITS, LIBVIRT_HOOK_PATH, TARGET_NODE, UNIT_DIR, applySteps, cliEntry, planInstall, renderResults, systemdIsRunning, targetPackageDir } from '../../host/installer.js';
import { DEFAULT_TOKEN_FILE, ensureTokenFile } from '../api-token.js';
import { parseCommandArgs } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { UsageError } from '../usage-error.js';
import type { CommandIo } from '../command.js';

export const help = `Usage: xfsguard install [options]

Installs, idempotently:
  PREFIX/bin/xfsguard                      a wrapper running this package's built CLI with this node
                                           (kept when PREFIX/bin/xfsguard is npm's link or another's)
  /usr/lib/systemd/system/xfsguard*.{service,timer}  vendor units: the boot check (before libvirt;
                                           publishes, never blocks), the HTTP API, the refresh timer;
                                           /etc/systemd/system is left to you (drop-ins); units an
                                           earlier install put there are removed
  /etc/xfsguard/policy.json                the default policy, only when there is none
  /etc/xfsguard/api-token                  a random bearer token for 'serve --tcp' (0640), only when
                                           there is none: chgrp it to your orchestration tool's group
  /etc/libvirt/hooks/qemu.d/50-xfsguard    with --libvirt-hook, only when absent or ours

The units name the installed command and the policy's allowed roots (ReadWritePaths=,
RequiresMountsFor=): run install again after changing allowed_roots.

Staging for a distro package (--root DESTDIR) writes no path of this build tree: the wrapper runs
--node (default ${TARGET_NODE}) on the package at --package-dir (default PREFIX/lib/node_modules/
xfsguard, where \`npm install -g --prefix DESTDIR/PREFIX xfsguard-*.tgz\` puts it).

Options:
  --prefix DIR     where the command goes (default /usr/local)
  --root DIR       staging root (like DESTDIR): write everything under DIR, run no systemctl
  --unit-dir DIR   where the units go (default ${UNIT_DIR}; /etc/systemd/system for a local admin's)
  --package-dir DIR  the package the wrapper runs, as a path on the target (default: this package,
                   or PREFIX/lib/node_modules/xfsguard with --root)
  --node PATH      the node the wrapper runs (default: this node, or ${TARGET_NODE} with --root)
  --libvirt-hook   also install the libvirt qemu hook (log-only unless /etc/xfsguard/hook.conf
                   says MODE=enforce)
  --enable         on a real install with systemd running: daemon-reload, enable --now the units
  --dry-run        print what would be done, change nothing

Exit codes: 0 done; 1 failed (e.g. not built: run 'npm run build:ts'); 2 bad usage.`;

export function rootAndPrefix(values: { root?: string | undefined; prefix?: string | undefined }): { root: string; prefix: string } {
  const root = path.resolve(values.root ?? '/');
  const prefix = values.prefix ?? '/usr/local';
  if (!path.posix.isAbsolute(prefix) || prefix.includes('\0')) throw new UsageError(`--prefix must be an absolute path; got ${JSON.stringify(prefix)}`);
  return { root, prefix: path.posix.normalize(prefix) };
}

function absolute(option: string, value: string | undefined): string | undefined {
  if (value !== undefined && (!path.posix.isAbsolute(value) || value.includes('\0'))) throw new UsageError(`${option} must be an absolute path; got ${JSON.stringify(value)}`);
  return value === undefined ? undefined : path.posix.normalize(value);
}

/** Paths as they will be on the target: with --root nothing may point into this build tree. */
function targetPaths(values: { 'unit-dir'?: string | undefined; 'package-dir'?: string | undefined; node?: string | undefined }, staged: boolean, prefix: string) {
  const unitDir = absolute('--unit-dir', values['unit-dir']);
  const packageDir = absolute('--package-dir', values['package-dir']) ?? (staged ? targetPackageDir(prefix) : undefined);
  const nodePath = absolute('--node', values.node) ?? (staged ? TARGET_NODE : undefined);
  return { ...(unitDir && { unitDir }), ...(packageDir && { packageDir }), ...(nodePath && { nodePath }) };
}

export async function run(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('install', argv, {
    prefix: { type: 'string' },
    root: { type: 'string' },
    'unit-dir': { type: 'string' },
    'package-dir': { type: 'string' },
    node: { type: 'string' },
    'libvirt-hook': { type: 'boolean' },
    enable: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
  });
  if (positionals.length > 0) throw new UsageError(`install: no operands expected; got ${JSON.stringify(positionals[0])}`);
  const { root, prefix } = rootAndPrefix(values);
  const dryRun = values['dry-run'] === true;
  const staged = root !== '/';
  if (values.enable === true && staged) throw new UsageError('--enable cannot be used with --root: nothing is run inside a staging root');
  const target = targetPaths(values, staged, prefix);

  const entry = cliEntry(PACKAGE_ROOT);
  if (!existsSync(entry)) {
    process.stderr.write(`xfsguard: install: ${entry} is missing: run 'npm run build:ts' in ${PACKAGE_ROOT} first\n`);
    if (!dryRun) return EXIT.INTERNAL;
  }
  let steps;
  try {
    steps = planInstall({ root, prefix, libvirtHook: values['libvirt-hook'] === true, ...target });
  } catch (err) {
    process.stderr.write(`xfsguard: install: ${(err as Error).message}\n`);
    return EXIT.INTERNAL;
  }
  const results = await applySteps(root, steps, dryRun);
  io.print(`${dryRun ? 'xfsguard install (dry run, nothing changed)' : 'xfsguard install'}${staged ? ` into ${root}` : ''}:\n${renderResults(results, dryRun)}`);
  const tokenFile = path.join(root, DEFAULT_TOKEN_FILE);
  if (dryRun) io.print(`  ${existsSync(tokenFile) ? 'keep' : 'would write'} ${tokenFile} (API bearer token, 0640)`);
  else io.print(`  ${(await ensureTokenFile(tokenFile)) ? 'wrote' : 'kept'} ${tokenFile} (API bearer token, 0640)`);
  const hookKept = results.find((r) => r.step.op === 'write' && r.step.path === LIBVIRT_HOOK_PATH && r.status === 'kept');
  if (hookKept !== undefined) io.print(`  note: ${hookKept.target} is another program's hook; call service/hooks/libvirt-qemu from it instead`);

  if (staged || dryRun) return EXIT.NOT_NEEDED;
  const units = ENABLE_UNITS.join(' ');
  if (values.enable === true) {
    if (!systemdIsRunning()) {
      process.stderr.write('xfsguard: install: --enable: systemd is not running here; enable the units on the host\n');
      return EXIT.INTERNAL;
    }
    for (const args of [['daemon-reload'], ['enable', '--now', ...ENABLE_UNITS]]) {
      const r = spawnSync('systemctl', args, { stdio: 'inherit' });
      if (r.status !== 0) {
        process.stderr.write(`xfsguard: install: systemctl ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})\n`);
        return EXIT.INTERNAL;
      }
    }
    io.print(`  enabled and started: ${units}`);
  } else {
    io.print(`Next: systemctl daemon-reload && systemctl enable --now ${units}`);
  }
  return EXIT.NOT_NEEDED;
}
