// Decision step "self-test": does the self-test given belong to this boot, kernel and filesystem (and is
// this no what-if), and what a result that does not reproduce the race says.
import type { FilesystemFacts, KernelFacts, SelfTestEvidence } from '../probes/types.js';
import type { DecisionInput, ReasonItem } from './decide-types.js';
import type { KernelAssessment } from './decide-kernel.js';

export interface SelftestAssessment {
  /** The self-test that applies, or null. */
  used: SelfTestEvidence | null;
  reasons: ReasonItem[];
}

/** Why a self-test does not belong to this boot/kernel/filesystem, or null when it does. */
function selftestMismatch(ev: SelfTestEvidence, fs: FilesystemFacts, kernel: KernelFacts): string | null {
  const r = ev.report;
  if (r.kernel_release !== kernel.release) return `it ran on kernel ${r.kernel_release}, this is ${kernel.release}`;
  if (r.boot_id !== null && kernel.boot_id !== null && r.boot_id !== kernel.boot_id) return `it ran in boot ${r.boot_id}, this is boot ${kernel.boot_id}`;
  if (r.fs_uuid !== null && fs.fs_uuid !== null) {
    if (r.fs_uuid !== fs.fs_uuid) return `it ran on filesystem ${r.fs_uuid}, this is ${fs.fs_uuid}`;
  } else if (r.device !== fs.device) {
    return `it ran on device ${r.device}, this is ${fs.device}`;
  }
  return null;
}

export function assessSelftest(input: DecisionInput, k: KernelAssessment): SelftestAssessment {
  const given = input.selftest;
  if (given === null) return { used: null, reasons: [] };
  if (k.what_if) {
    return {
      used: null,
      reasons: [
        {
          code: 'selftest_ignored_what_if',
          detail: `the self-test ran on the running kernel ${given.report.kernel_release}, not on ${k.judged_release}: ignored`,
        },
      ],
    };
  }
  const why = selftestMismatch(given, input.filesystem, input.kernel);
  if (why === null) return { used: given, reasons: [] };
  return { used: null, reasons: [{ code: 'selftest_not_applicable', detail: `the self-test given does not apply: ${why}; ignored` }] };
}

export function selftestSummary(ev: SelfTestEvidence): string {
  const r = ev.report;
  const age = ev.cached ? `, stored result ${Math.round(ev.age_ms / 1000)} s old` : '';
  return `${r.iterations} iterations with ${r.engines.join('+') || 'no engine'} / ${r.modes.join('+') || 'no mode'} on ${r.fs_type} at ${r.directory}${age}`;
}

/** On a filesystem judged by the kernel table: what the self-test (or its absence) adds. */
export function selftestNoteOnKernel(used: SelfTestEvidence | null, tableSaysFixed: boolean, input: DecisionInput, whatIf: boolean): ReasonItem | null {
  if (used !== null) {
    if (used.report.outcome === 'not_reproduced') {
      return {
        code: tableSaysFixed ? 'selftest_clean_supports_fixed' : 'selftest_clean_not_proof',
        detail: `the self-test did not reproduce the race in ${selftestSummary(used)}; a race not observed is not proof of a fix`,
      };
    }
    return {
      code: 'selftest_unsupported',
      detail: `the self-test could not run here (${used.report.reason ?? 'no engine/mode supported'}): no evidence either way`,
    };
  }
  if (!whatIf && input.selftest === null) return { code: 'selftest_none', detail: 'no self-test result for this boot, kernel and filesystem' };
  return null;
}

/**
 * Fields of the self-test report that come with h/native's work and may not have landed yet: typed here,
 * read when present. below_range_outcome (contract C1): an extending write in flight BELOW a beyond-EOF
 * ZERO_RANGE — 'reproduced' means QEMU's own serialisation does not suffice. timeout (issue 8.3): the
 * device did not answer by the deadline.
 */
export interface SelfTestReportExtras {
  below_range_outcome?: SelfTestEvidence['report']['outcome'] | null;
  timeout?: { deadline_ms: number; message: string } | null;
}

export function reportExtras(ev: SelfTestEvidence | null): SelfTestReportExtras {
  return ev === null ? {} : (ev.report);
}

/** The self-test reproduced the race: in its main cases, or in the below-range case (C1). */
export function selftestReproduced(ev: SelfTestEvidence | null): boolean {
  return ev !== null && (ev.report.outcome === 'reproduced' || reportExtras(ev).below_range_outcome === 'reproduced');
}

/** Iterations of a clean self-test that applies, or null. */
export function cleanIterations(used: SelfTestEvidence | null): number | null {
  return used !== null && used.report.outcome === 'not_reproduced' && !selftestReproduced(used) ? used.report.iterations : null;
}
