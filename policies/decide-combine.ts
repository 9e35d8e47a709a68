// Decision step "combine": the filesystem, kernel, self-test and I/O mode assessments become one verdict.
// Order of evidence: a reproduced self-test is proof; then the filesystem; on XFS the I/O mode, then the
// kernel table; a clean self-test never makes an unknown kernel fixed under the conservative policy.
import type { DecisionConfidence, Judged, ReasonItem } from './decide-types.js';
import { isLocalFs, type FsAssessment } from './decide-filesystem.js';
import type { IoModeAssessment } from './decide-io-mode.js';
import { kernelReason, type KernelAssessment } from './decide-kernel.js';
import { cleanIterations, reportExtras, selftestNoteOnKernel, selftestReproduced, selftestSummary, type SelftestAssessment } from './decide-selftest.js';
import type { KbBug, KbConfidence } from './knowledge-base-schema.js';
import type { OperatorPolicy } from './operator-policy.js';
import type { DecisionInput } from './decide-types.js';

export function confidenceOf(c: KbConfidence): Exclude<DecisionConfidence, 'proven'> {
  return c === 'verified' ? 'high' : c === 'inferred' ? 'medium' : 'low';
}

export interface Assessments {
  input: DecisionInput;
  bug: KbBug;
  kernel: KernelAssessment;
  selftest: SelftestAssessment;
  fs: FsAssessment;
  io: IoModeAssessment;
}

/** A reproduced self-test: affected, proven — unless the VM's mode is not exposed on a local filesystem. */
function judgeReproduced(a: Assessments): Judged {
  const r = a.selftest.used!.report;
  const reasons: ReasonItem[] = [
    ...a.fs.reasons,
    {
      code: 'selftest_reproduced',
      detail: `the self-test reproduced the race ${r.reproductions} time(s) in ${selftestSummary(a.selftest.used!)}${a.fs.kind !== 'xfs' ? ` (on ${a.fs.fs_type}, not XFS)` : ''} — evidence beats the tables (${a.kernel.status.status} by rule ${a.kernel.status.rule})`,
    },
  ];
  if (reportExtras(a.selftest.used).below_range_outcome === 'reproduced') {
    reasons.push({
      code: 'selftest_below_range_reproduced',
      detail:
        'the race also reproduced with an extending write in flight BELOW a beyond-EOF ZERO_RANGE: QEMU ≥ 4.1.1 serialises only from the zeroed offset up, so its own workaround does not suffice on this kernel — only aio=threads, cache=writeback or a fixed kernel',
    });
  }
  if (!a.io.exposed && isLocalFs(a.fs.kind)) {
    return { verdict: 'not_affected', confidence: confidenceOf(a.bug.io_modes.confidence), reasons: [...reasons, a.io.reason] };
  }
  return { verdict: 'affected', confidence: 'proven', reasons };
}

/** Filesystems that are not (or cannot be seen to be) XFS. */
function judgeNotXfs(a: Assessments): Judged {
  const reasons = [...a.fs.reasons];
  if (a.fs.kind === 'pseudo' || a.fs.kind === 'not_xfs') return { verdict: 'not_affected', confidence: 'high', reasons };
  if (a.io.mode !== null && !a.io.exposed && a.fs.kind !== 'unknown') {
    reasons.push({ code: 'io_mode_remote_irrelevant', detail: `aio=${a.io.mode} on the client does not decide how the server writes to its filesystem` });
  }
  return { verdict: 'unknown', confidence: 'low', reasons };
}

/** The kernel table says unknown: only trust-selftest with enough clean iterations makes it fixed. */
function judgeUnknownKernel(a: Assessments, policy: OperatorPolicy): Judged {
  const cleanRuns = cleanIterations(a.selftest.used);
  if (policy.mode === 'trust-selftest' && cleanRuns !== null && cleanRuns >= policy.trust_selftest_min_iterations) {
    const detail = `policy trust-selftest: ${cleanRuns} clean iterations on this boot and filesystem (≥ ${policy.trust_selftest_min_iterations}) are taken as fixed`;
    return { verdict: 'fixed', confidence: 'low', reasons: [{ code: 'selftest_trusted', detail }] };
  }
  const reasons: ReasonItem[] = [];
  if (policy.mode === 'trust-selftest' && cleanRuns !== null) {
    reasons.push({
      code: 'selftest_too_few_iterations',
      detail: `policy trust-selftest needs ≥ ${policy.trust_selftest_min_iterations} clean iterations; the self-test ran ${cleanRuns}`,
    });
  } else if (cleanRuns !== null) {
    reasons.push({ code: 'policy_conservative', detail: 'policy conservative: a clean self-test alone does not make a kernel of unknown status fixed' });
  }
  return { verdict: 'unknown', confidence: 'low', reasons };
}

/**
 * The engine rule: a belief never turns the workaround off. A table saying fixed / not present only at
 * confidence belief (custom kernels by version, bare versions below 3.15, …) becomes unknown, unless a clean
 * self-test on this boot and filesystem with enough iterations agrees with it.
 */
function judgeBelief(a: Assessments, policy: OperatorPolicy, saysSafe: 'fixed' | 'not_affected'): Judged {
  const cleanRuns = cleanIterations(a.selftest.used);
  const min = policy.trust_selftest_min_iterations;
  if (cleanRuns !== null && cleanRuns >= min) {
    const detail = `the table's ${saysSafe === 'fixed' ? 'fixed' : 'not present'} rests on a belief (rule ${a.kernel.status.rule}); a clean self-test of ${cleanRuns} iterations (≥ ${min}) on this boot and filesystem agrees with it`;
    return { verdict: saysSafe, confidence: 'low', reasons: [{ code: 'selftest_corroborates_belief', detail }] };
  }
  const seen = cleanRuns === null ? 'no clean self-test of this boot' : `a clean self-test of only ${cleanRuns} iterations (< ${min})`;
  const detail = `the table's ${saysSafe === 'fixed' ? 'fixed' : 'not present'} rests on a belief (rule ${a.kernel.status.rule}) and a belief never turns the workaround off; ${seen} — a clean self-test of ≥ ${min} iterations on this filesystem decides`;
  return { verdict: 'unknown', confidence: 'low', reasons: [{ code: 'kernel_belief_not_enough', detail }] };
}

/** The kernel table's status as a verdict. */
function judgeByKernelTable(a: Assessments, policy: OperatorPolicy): Judged {
  const k = a.kernel.status;
  const conf = confidenceOf(k.confidence);
  if (k.confidence === 'belief' && (k.status === 'fixed' || k.status === 'not_present')) {
    return judgeBelief(a, policy, k.status === 'fixed' ? 'fixed' : 'not_affected');
  }
  switch (k.status) {
    case 'affected':
      return { verdict: 'affected', confidence: conf, reasons: [] };
    case 'fixed':
      return { verdict: 'fixed', confidence: conf, reasons: [] };
    case 'not_present':
      return { verdict: 'not_affected', confidence: conf, reasons: [] };
    case 'unknown':
      return judgeUnknownKernel(a, policy);
  }
}

/** Local XFS (or a local filesystem of unknown type): I/O mode, then the kernel table. */
function judgeXfs(a: Assessments, policy: OperatorPolicy): Judged {
  const reasons: ReasonItem[] = [...a.fs.reasons, kernelReason(a.kernel.status, a.kernel.parsed)];
  const note = selftestNoteOnKernel(a.selftest.used, a.kernel.status.status === 'fixed', a.input, a.kernel.what_if);
  if (note !== null) reasons.push(note);
  reasons.push(a.io.reason);
  if (!a.io.exposed) return { verdict: 'not_affected', confidence: confidenceOf(a.bug.io_modes.confidence), reasons };
  if (a.fs.kind === 'local_unknown') return { verdict: 'unknown', confidence: 'low', reasons };
  const timeout = reportExtras(a.selftest.used).timeout;
  if (timeout) {
    // a device that does not answer says nothing about the kernel, and the tables are not asked instead (issue 8.3)
    const detail = `the self-test's device did not respond within ${timeout.deadline_ms} ms: ${timeout.message}`;
    return { verdict: 'unknown', confidence: 'low', reasons: [...reasons, { code: 'selftest_timed_out', detail }] };
  }
  const j = judgeByKernelTable(a, policy);
  return { ...j, reasons: [...reasons, ...j.reasons] };
}

export function combine(a: Assessments, policy: OperatorPolicy): Judged {
  if (selftestReproduced(a.selftest.used)) return judgeReproduced(a);
  if (a.fs.kind === 'xfs' || a.fs.kind === 'local_unknown') return judgeXfs(a, policy);
  return judgeNotXfs(a);
}
