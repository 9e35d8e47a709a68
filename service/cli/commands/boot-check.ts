import { DEFAULT_POLICY_PATH } from '../../../policies/operator-policy.js';
import {
  DEFAULT_BOOT_BUDGET_MS, renderBootCheckSummary, runBootCheck, stateDirWritable, writeBootCheckFile,
  type OutputResult,
} from '../../host/boot-check.js';
import { DEFAULT_NFD_FILE, writeNfdFile } from '../../host/nfd.js';
import { KNOWN_TEXTFILE_DIRS, TEXTFILE_NAME, detectTextfileDir, writeTextfile } from '../../host/textfile.js';
import { oneOf, parseCommandArgs, positiveInt } from '../args.js';
import { CONTEXT_FLAGS, CONTEXT_HELP, loadContext, warnToStderr } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { UsageError } from '../usage-error.js';
import type { CommandIo } from '../command.js';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const help = `Usage: xfsguard boot-check [options]

Once per boot (xfsguard-boot.service): runs the live race self-test on the filesystem of every
allowed root of the operator policy that exists (once per filesystem), stores the results in the
state directory for 'check' and the service to reuse, judges each root and writes node-level
outputs (Node Feature Discovery labels, Prometheus textfile). Prints one line per root.

Options:
  --json                  print one JSON document
  --root DIR              judge DIR instead of the policy's allowed roots (repeatable)
  --budget-ms MS          time for all self-tests together, split across filesystems
                          (default ${DEFAULT_BOOT_BUDGET_MS})
  --iterations N          iterations per engine x mode run (default: the self-test's)
  --selftest always|auto  always (default): a fresh self-test; auto: reuse this boot's stored one
  --nfd-file FILE|off     NFD feature file (default ${DEFAULT_NFD_FILE},
                          written only when its directory exists; a FILE given is always written)
  --textfile DIR|off      write DIR/xfsguard.prom for node_exporter's textfile collector
                          (default: the first of ${KNOWN_TEXTFILE_DIRS.join(', ')}
                          that exists; none: not written)
${CONTEXT_HELP}
  (policy default ${DEFAULT_POLICY_PATH})

Exit codes: 0 the check ran (whatever the verdicts: read them from the output or the files);
  1 it could not run (e.g. the state directory is not writable); 2 bad usage or a bad policy.`;

export async function run(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('boot-check', argv, {
    json: { type: 'boolean' },
    root: { type: 'string', multiple: true },
    'budget-ms': { type: 'string' },
    iterations: { type: 'string' },
    selftest: { type: 'string' },
    'nfd-file': { type: 'string' },
    textfile: { type: 'string' },
    ...CONTEXT_FLAGS,
  });
  if (positionals.length > 0) throw new UsageError(`boot-check: no operands expected; got ${JSON.stringify(positionals[0])} (use --root DIR)`);
  const budget = positiveInt('budget-ms', values['budget-ms'], 3_600_000) ?? DEFAULT_BOOT_BUDGET_MS;
  const iterations = positiveInt('iterations', values.iterations, 1_000_000);
  const selftest = oneOf('selftest', values.selftest, ['always', 'auto'] as const) ?? 'always';
  const roots = (values.root ?? []).map((r) => {
    if (!path.isAbsolute(r) || r.includes('\0')) throw new UsageError(`--root must be an absolute path; got ${JSON.stringify(r)}`);
    return path.resolve(r);
  });
  const nfdFlag = values['nfd-file'];
  if (nfdFlag !== undefined && nfdFlag !== 'off' && !path.isAbsolute(nfdFlag)) throw new UsageError(`--nfd-file must be an absolute path or "off"`);
  const textfileDir = values.textfile === 'off' ? undefined : values.textfile !== undefined ? path.resolve(values.textfile) : (detectTextfileDir() ?? undefined);

  const ctx = loadContext(values);
  const stateProblem = await stateDirWritable(ctx.cache.dir);
  if (stateProblem !== null) {
    process.stderr.write(`xfsguard: boot-check: cannot write the state directory ${ctx.cache.dir} (${stateProblem}); use --state-dir\n`);
    return EXIT.INTERNAL;
  }

  const report = await runBootCheck(ctx, {
    roots: roots.length > 0 ? roots : ctx.policy.allowed_roots,
    budget_ms: budget,
    selftest,
    ...(iterations !== undefined ? { iterations } : {}),
    progress: values.json === true ? () => undefined : (m) => process.stderr.write(`xfsguard: ${m}\n`),
  });

  const attempt = async (out: OutputResult, write: () => Promise<unknown>) => {
    try {
      await write();
      out.written = true;
      out.note = null;
    } catch (err) {
      out.note = `error: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      warnToStderr(`could not write ${out.path}: ${out.note}`);
    }
  };
  const nfdInput = { verdict: report.node.verdict, workaround_needed: report.node.enable_workaround, now: new Date(report.finished_at) };
  if (nfdFlag !== 'off') {
    const file = nfdFlag ?? DEFAULT_NFD_FILE;
    report.outputs.nfd = { path: file, written: false, note: null };
    if (nfdFlag === undefined && !existsSync(path.dirname(file))) report.outputs.nfd.note = 'directory missing (Node Feature Discovery not set up)';
    else await attempt(report.outputs.nfd, () => writeNfdFile(file, nfdInput));
  }
  if (textfileDir !== undefined) {
    report.outputs.textfile = { path: path.join(textfileDir, TEXTFILE_NAME), written: false, note: null };
    await attempt(report.outputs.textfile, () => writeTextfile(textfileDir, report));
  } else if (values.textfile === undefined) {
    report.outputs.textfile.note = `no node_exporter textfile directory (${KNOWN_TEXTFILE_DIRS.join(', ')})`;
  }
  // Written last, so that it records where the other outputs went.
  report.outputs.state.written = true;
  try {
    await writeBootCheckFile(report);
  } catch (err) {
    report.outputs.state.written = false;
    report.outputs.state.note = `error: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    warnToStderr(`could not write ${report.outputs.state.path}: ${report.outputs.state.note}`);
  }
  io.print(values.json === true ? JSON.stringify(report, null, 2) : renderBootCheckSummary(report));
  return report.outputs.state.written ? EXIT.NOT_NEEDED : EXIT.INTERNAL;
}
