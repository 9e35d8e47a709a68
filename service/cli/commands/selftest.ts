import { probeFilesystem } from '../../../probes/filesystem.js';
import { probeKernel } from '../../../probes/kernel.js';
import { ALL_ENGINES, ALL_MODES, SELFTEST_DEFAULTS } from '../../../probes/selftest.js';
import type { SelfTestReport } from '../../../probes/types.js';
import { selfTestAndStore } from '../../judge.js';
import { oneOf, parseCommandArgs, pathOperand, positiveInt } from '../args.js';
import type { CommandIo } from '../command.js';
import { CONTEXT_FLAGS, CONTEXT_HELP, loadContext } from '../context.js';
import { EXIT } from '../exit-codes.js';

export const help = `Usage: xfsguard selftest PATH [options]

Races an O_DIRECT write beyond end of file, in flight through Linux AIO or io_uring, against a
size-setting fallocate() on a private scratch file in PATH's directory (O_TMPFILE, or a hidden
name unlinked at once: nothing is left behind), and checks the file's size and data afterwards.
The result is stored for this boot in the state directory.

Options:
  --engine aio|io_uring|all       submission engine (default all)
  --mode zero-range|alloc|all     fallocate mode: FALLOC_FL_ZERO_RANGE as QEMU issues it, or
                                  mode 0 as fstests generic/586 (default all)
  --iterations N                  at most N iterations per engine and mode (default ${SELFTEST_DEFAULTS.iterations})
  --budget-ms MS                  time budget for the whole test (default ${SELFTEST_DEFAULTS.budget_ms})
  --max-mib N                     write at most N MiB in all (default ${SELFTEST_DEFAULTS.max_bytes / 1048576})
  --json                          print the report as one JSON document
${CONTEXT_HELP}

Exit codes: 0 not reproduced; 10 reproduced (the kernel has the bug); 11 could not be tested
here (unsupported: see the reasons); 2 bad input or usage; 1 internal error.`;

function describe(report: SelfTestReport): string {
  const lines = [`self-test on ${report.directory} (${report.fs_type}, device ${report.device}), kernel ${report.kernel_release}: ${report.outcome.toUpperCase().replace('_', ' ')}`];
  for (const r of report.runs) {
    let line = `  ${r.engine.padEnd(8)} ${r.mode.padEnd(10)} ${r.outcome.padEnd(14)} ${r.iterations} iterations, ${r.in_flight_iterations} with the write in flight, ${r.reproductions} reproduced, ${(r.bytes_written / 1048576).toFixed(1)} MiB, ${r.duration_ms} ms`;
    if (r.first_reproduction !== null) {
      const f = r.first_reproduction;
      line += `\n           first at iteration ${f.iteration}: size ${f.actual_size}, expected ${f.expected_size}${f.data_mismatch ? ', written data lost' : ''} (write ${f.io_size} bytes at ${f.write_offset}, fallocate 0..${f.falloc_len})`;
    }
    if (r.reason !== null) line += `\n           ${r.reason.stage}${r.reason.errno ? ` ${r.reason.errno}` : ''}: ${r.reason.message}`;
    lines.push(line);
  }
  lines.push(`  total ${report.iterations} iterations, ${(report.bytes_written / 1048576).toFixed(1)} MiB written, ${report.duration_ms} ms`);
  return lines.join('\n');
}

export async function run(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('selftest', argv, {
    engine: { type: 'string' },
    mode: { type: 'string' },
    iterations: { type: 'string' },
    'budget-ms': { type: 'string' },
    'max-mib': { type: 'string' },
    json: { type: 'boolean' },
    ...CONTEXT_FLAGS,
  });
  const target = pathOperand('selftest', positionals);
  const engine = oneOf('engine', values.engine, ['aio', 'io_uring', 'all'] as const) ?? 'all';
  const mode = oneOf('mode', values.mode, ['zero-range', 'alloc', 'all'] as const) ?? 'all';
  const iterations = positiveInt('iterations', values.iterations, 1_000_000);
  const budget = positiveInt('budget-ms', values['budget-ms'], 3_600_000);
  const maxMib = positiveInt('max-mib', values['max-mib'], 65_536);
  const ctx = loadContext(values);
  const [fs, kernel] = await Promise.all([probeFilesystem(target), probeKernel()]);
  const report = await selfTestAndStore(fs, kernel, ctx, {
    engines: engine === 'all' ? ALL_ENGINES : [engine],
    modes: mode === 'all' ? ALL_MODES : [mode],
    iterations,
    budget_ms: budget,
    max_bytes: maxMib === undefined ? undefined : maxMib * 1048576,
  });
  io.print(values.json === true ? JSON.stringify(report, null, 2) : describe(report));
  return report.outcome === 'reproduced' ? EXIT.AFFECTED : report.outcome === 'not_reproduced' ? EXIT.NOT_NEEDED : EXIT.UNKNOWN;
}
