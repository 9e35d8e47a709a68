import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { resolveStateDir } from '../../../probes/selftest-cache.js';
import { ENABLE_UNITS, LIBVIRT_HOOK_PATH, UNIT_DIR, applySteps, commandPath, planUninstall, pruneEmptyDirs, renderResults, systemdIsRunning } from '../../host/installer.js';
import { parseCommandArgs } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { UsageError } from '../usage-error.js';
import type { CommandIo } from '../command.js';
import { rootAndPrefix } from './install.js';

export const help = `Usage: xfsguard uninstall [options]

Removes what 'xfsguard install' wrote: the units, PREFIX/bin/xfsguard (only the wrapper install
wrote) and the libvirt hook (only ours). The policy (/etc/xfsguard) and the state directory
(/var/lib/xfsguard) stay unless --purge.

Options:
  --prefix DIR     as given to install (default /usr/local)
  --root DIR       staging root (like DESTDIR); no systemctl is run
  --purge          also remove /etc/xfsguard and the state directory
  --state-dir DIR  the state directory --purge removes (default /var/lib/xfsguard, or $XFSGUARD_STATE_DIR)
  --disable        on a real uninstall with systemd running: disable --now the units first
  --dry-run        print what would be done, change nothing`;

export async function run(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('uninstall', argv, {
    prefix: { type: 'string' },
    root: { type: 'string' },
    purge: { type: 'boolean' },
    'state-dir': { type: 'string' },
    disable: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
  });
  if (positionals.length > 0) throw new UsageError(`uninstall: no operands expected; got ${JSON.stringify(positionals[0])}`);
  const { root, prefix } = rootAndPrefix(values);
  const dryRun = values['dry-run'] === true;
  const staged = root !== '/';
  if (values.disable === true && staged) throw new UsageError('--disable cannot be used with --root');
  // Inside a staging root the state directory is the default one under it, unless given.
  const stateDir = values['state-dir'] !== undefined || !staged ? resolveStateDir(values['state-dir']) : undefined;

  if (values.disable === true && !dryRun) {
    if (!systemdIsRunning()) {
      process.stderr.write('xfsguard: uninstall: --disable: systemd is not running here\n');
      return EXIT.INTERNAL;
    }
    const r = spawnSync('systemctl', ['disable', '--now', ...ENABLE_UNITS], { stdio: 'inherit' });
    if (r.status !== 0) process.stderr.write(`xfsguard: uninstall: systemctl disable failed (${r.error?.message ?? `exit ${r.status}`}); removing the files anyway\n`);
  }
  const steps = planUninstall({ root, prefix, purge: values.purge === true, ...(stateDir !== undefined ? { stateDir } : {}) });
  const results = await applySteps(root, steps, dryRun);
  if (!dryRun && staged) {
    await pruneEmptyDirs(root, [path.posix.dirname(commandPath(prefix)), prefix, UNIT_DIR, '/etc/systemd', path.posix.dirname(LIBVIRT_HOOK_PATH), '/etc/libvirt/hooks', '/etc/libvirt']);
  }
  io.print(`${dryRun ? 'xfsguard uninstall (dry run, nothing changed)' : 'xfsguard uninstall'}${staged ? ` from ${root}` : ''}:\n${renderResults(results, dryRun)}`);
  if (!staged && !dryRun) {
    io.print(values.disable === true ? 'Next: systemctl daemon-reload' : `Next: systemctl disable --now ${ENABLE_UNITS.join(' ')}; systemctl daemon-reload`);
  }
  return EXIT.NOT_NEEDED;
}
