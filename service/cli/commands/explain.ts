import { exitCodeFor } from '../../../policies/decide.js';
import { renderExplanation } from '../../../policies/explain.js';
import { describeQemu } from '../../../policies/qemu-exposure.js';
import { gatherQemuFacts } from '../../../probes/qemu.js';
import { QemuVersionCache } from '../../../probes/qemu-version-cache.js';
import { resolveStateDir } from '../../../probes/selftest-cache.js';
import { judge } from '../../judge.js';
import { kernelReleaseFlag, oneOf, parseCommandArgs, pathOperand, whatIfIdentityFlags } from '../args.js';
import type { CommandIo } from '../command.js';
import { CONTEXT_FLAGS, CONTEXT_HELP, loadContextAsync } from '../judge-context.js';
import { EXIT_CODES_HELP } from '../exit-codes.js';

export const help = `Usage: xfsguard explain PATH [options]

Prints, for a person, how the answer for PATH was reached: filesystem, kernel and what the
knowledge base says of it, the self-test, the operator policy, the verdict and what to do.
Uses a stored self-test of this boot; runs none unless --selftest auto|always is given.

Options:
  --selftest auto|always|never    (default never)
  --aio native|io_uring|threads
  --kernel-release R              what-if: judge kernel release R
  --kernel-version V              what-if: its \`uname -v\` (Debian package version)
  --version-signature S           what-if: its /proc/version_signature (Ubuntu)
${CONTEXT_HELP}

${EXIT_CODES_HELP}`;

const QEMU_PROBE_TIMEOUT_MS = 3000;

export async function run(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('explain', argv, {
    selftest: { type: 'string' },
    aio: { type: 'string' },
    'kernel-release': { type: 'string' },
    'kernel-version': { type: 'string' },
    'version-signature': { type: 'string' },
    ...CONTEXT_FLAGS,
  });
  const target = pathOperand('explain', positionals);
  const selftest = oneOf('selftest', values.selftest, ['auto', 'always', 'never'] as const) ?? 'never';
  const ioMode = oneOf('aio', values.aio, ['native', 'io_uring', 'threads'] as const) ?? null;
  const release = kernelReleaseFlag(values['kernel-release']);
  const identity = whatIfIdentityFlags(values);
  // the host's QEMU versions are read while the path is judged: they are evidence too
  // (their `--version` answers are kept in the state directory while the files are unchanged)
  const versions = QemuVersionCache.open(resolveStateDir(values['state-dir']));
  const ctx = { ...(await loadContextAsync(values)), qemu: versions.then((versionCache) => gatherQemuFacts({ timeoutMs: QEMU_PROBE_TIMEOUT_MS, versionCache })) };
  const { decision } = await judge(
    { path: target, io_mode: ioMode, selftest, ...(release !== undefined ? { kernel_release_override: release } : {}), ...identity },
    ctx,
  );
  const { warning, lines } = describeQemu(decision);
  const qemu = lines.length === 0 ? '' : `\n\nQEMU on this host:\n${lines.map((l) => `  ${l}`).join('\n')}`;
  io.print(`${warning === null ? '' : `${warning}\n\n`}${renderExplanation(decision)}${qemu}`);
  return exitCodeFor(decision);
}
