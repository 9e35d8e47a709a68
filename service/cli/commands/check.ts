import { exitCodeFor } from '../../../policies/decide.js';
import { renderSummary } from '../../../policies/explain.js';
import { describeQemu } from '../../../policies/qemu-exposure.js';
import { gatherQemuFacts } from '../../../probes/qemu.js';
import { QemuVersionCache } from '../../../probes/qemu-version-cache.js';
import { resolveStateDir } from '../../../probes/selftest-cache.js';
import { judge } from '../../judge.js';
import { kernelReleaseFlag, oneOf, parseCommandArgs, pathOperand, positiveInt, whatIfIdentityFlags } from '../args.js';
import { CONTEXT_FLAGS, CONTEXT_HELP, loadContextAsync } from '../judge-context.js';
import { EXIT_CODES_HELP } from '../exit-codes.js';
import type { CommandIo } from '../command.js';

export const help = `Usage: xfsguard check PATH [options]

Answers whether QEMU's workaround for the XFS fallocate vs AIO+DIO size race should be enabled
for VM images at PATH (which need not exist yet). On XFS the answer comes from a live self-test
on that filesystem (cached per boot), the kernel release and the operator policy.

Options:
  --json                    print one JSON document
  --selftest auto|always|never
                            auto (default): use this boot's stored self-test, else run one;
                            always: run a fresh one; never: only use a stored one
  --aio native|io_uring|threads
                            the I/O mode the VM uses (default: assume an exposed one)
  --kernel-release R        what-if: judge kernel release R instead of the running one
                            (no self-test applies to a kernel that is not running)
  --kernel-version V        what-if: that kernel's \`uname -v\` (Debian: names the package
                            version, e.g. "#1 SMP Debian 5.10.209-2 (2024-01-31)")
  --version-signature S     what-if: that kernel's /proc/version_signature (Ubuntu, e.g.
                            "Ubuntu 5.4.0-42.46-generic 5.4.44")
  --budget-ms MS            time budget for a self-test run here (default 20000)
${CONTEXT_HELP}

${EXIT_CODES_HELP}`;

const QEMU_PROBE_TIMEOUT_MS = 3000;

export async function run(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('check', argv, {
    json: { type: 'boolean' },
    selftest: { type: 'string' },
    aio: { type: 'string' },
    'kernel-release': { type: 'string' },
    'kernel-version': { type: 'string' },
    'version-signature': { type: 'string' },
    'budget-ms': { type: 'string' },
    ...CONTEXT_FLAGS,
  });
  const target = pathOperand('check', positionals);
  const selftest = oneOf('selftest', values.selftest, ['auto', 'always', 'never'] as const) ?? 'auto';
  const ioMode = oneOf('aio', values.aio, ['native', 'io_uring', 'threads'] as const) ?? null;
  const budget = positiveInt('budget-ms', values['budget-ms'], 3_600_000);
  const release = kernelReleaseFlag(values['kernel-release']);
  const identity = whatIfIdentityFlags(values);
  // the host's QEMU versions are read while the path is judged: they are evidence too
  // (their `--version` answers are kept in the state directory while the files are unchanged)
  const versions = QemuVersionCache.open(resolveStateDir(values['state-dir']));
  const ctx = { ...(await loadContextAsync(values)), qemu: versions.then((versionCache) => gatherQemuFacts({ timeoutMs: QEMU_PROBE_TIMEOUT_MS, versionCache })) };
  const { decision } = await judge(
    {
      path: target,
      io_mode: ioMode,
      selftest,
      ...(release !== undefined ? { kernel_release_override: release } : {}),
      ...identity,
      selftestOptions: { budget_ms: budget },
    },
    ctx,
  );
  const { warning } = describeQemu(decision);
  io.print(values.json === true ? JSON.stringify(decision, null, 2) : `${warning === null ? '' : `${warning}\n`}${renderSummary(decision)}`);
  return exitCodeFor(decision);
}
