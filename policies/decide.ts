// The decision: one pure function from facts (filesystem, kernel, self-test, I/O mode), the operator policy
// and the knowledge base to "enable the workaround for this path?" with reasons. No I/O.
//
// Named steps, each in its own file: filesystem (decide-filesystem), kernel (decide-kernel), self-test
// (decide-selftest), I/O mode (decide-io-mode), combine (decide-combine), operator overrides (below):
//  1. a reproduced self-test (this boot, kernel, filesystem) is proof: affected, whatever the tables say;
//  2. the filesystem: pseudo and local non-XFS ⇒ not_affected; network, FUSE, unresolved overlay and unknown
//     ⇒ unknown (a client cannot see the server's filesystem; unknown is never read as no);
//  3. on XFS: an I/O mode that is not exposed (threads) ⇒ not_affected for that mode; else the knowledge base's
//     kernel status; a clean self-test never makes an unknown kernel fixed under the conservative policy, only
//     under trust-selftest with enough iterations;
//  4. a per-path operator override forces enable/disable last (the verdict stays what the evidence says).
import { combine, type Assessments } from './decide-combine.js';
import { assessFilesystem } from './decide-filesystem.js';
import { pickMitigations } from './decide-mitigations.js';
import { assessIoMode } from './decide-io-mode.js';
import { assessKernel } from './decide-kernel.js';
import { assessSelftest } from './decide-selftest.js';
import type { Decision, DecisionInput, ReasonItem } from './decide-types.js';
import type { KbBug, KnowledgeBase } from './knowledge-base-schema.js';
import { XFS_FALLOCATE_BUG_ID } from './knowledge-base.js';
import { matchOverride, type OperatorPolicy, type PolicyOverride } from './operator-policy.js';
import { remediesFor } from './remedies.js';
import type { FilesystemFacts } from '../probes/types.js';

export type { Decision, DecisionConfidence, DecisionInput, Judged, KernelEvidence, ReasonItem, Verdict } from './decide-types.js';
export { confidenceOf } from './decide-combine.js';

/** Exit codes: 0 workaround not needed; 10 needed, affected; 11 needed, cannot be ruled out. */
export { EXIT_AFFECTED, EXIT_NOT_NEEDED, EXIT_NOT_RULED_OUT, exitCodeFor } from './exit-codes.js';

function bugOf(kb: KnowledgeBase): KbBug {
  const bug = kb.bugs.find((b) => b.id === XFS_FALLOCATE_BUG_ID);
  if (!bug) throw new Error(`knowledge base ${kb.revision} has no entry for ${XFS_FALLOCATE_BUG_ID}`);
  return bug;
}

/** Step "operator overrides": the longest prefix of the requested path or the judged directory. */
function applyOverride(fs: FilesystemFacts, policy: OperatorPolicy, enable: boolean): { enable: boolean; override: PolicyOverride | null; reason: ReasonItem | null } {
  const override = matchOverride([fs.requested_path, fs.judged_directory], policy);
  if (override === null) return { enable, override, reason: null };
  return {
    enable: override.action === 'enable',
    override,
    reason: {
      code: override.action === 'enable' ? 'policy_override_enable' : 'policy_override_disable',
      detail: `operator override for ${override.prefix} (${policy.source}): ${override.action} — ${override.reason}`,
    },
  };
}

export function decide(input: DecisionInput): Decision {
  const { filesystem: fs, kernel, policy, knowledge_base: kb } = input;
  const bug = bugOf(kb);
  const k = assessKernel(input, kb, bug);
  const st = assessSelftest(input, k);
  const a: Assessments = { input, bug, kernel: k, selftest: st, fs: assessFilesystem(fs), io: assessIoMode(bug, input.io_mode) };
  const judged = combine(a, policy);
  const needed = judged.verdict === 'affected' || judged.verdict === 'unknown';
  const mitigations = needed ? pickMitigations(bug, a.fs.kind, st.used) : [];
  const ov = applyOverride(fs, policy, needed);
  const reasons = [...k.reasons, ...st.reasons, ...judged.reasons, ...(ov.reason === null ? [] : [ov.reason])];
  return {
    format_version: 1,
    path: fs.requested_path,
    judged_directory: fs.judged_directory,
    enable_workaround: ov.enable,
    remedies: remediesFor({
      enable_workaround: ov.enable,
      fs_class: a.fs.fs_class,
      fs_type: a.fs.fs_type,
      io_mode: input.io_mode,
      below_range_outcome: st.used?.report.below_range_outcome ?? null,
      host_qemu: input.host_qemu ?? null,
    }),
    verdict: judged.verdict,
    confidence: judged.confidence,
    reasons,
    evidence: {
      filesystem: fs,
      kernel: { ...kernel, judged_release: k.judged_release, what_if: k.what_if, parsed: k.parsed, status: k.status },
      selftest: input.selftest,
      selftest_used: st.used !== null,
      io_mode: input.io_mode,
    },
    mitigations,
    policy: {
      mode: policy.mode,
      override: ov.override === null ? null : { prefix: ov.override.prefix, action: ov.override.action, reason: ov.override.reason },
      source: policy.source,
    },
    provenance: { xfsguard_version: input.xfsguard_version, knowledge_base_revision: kb.revision, bug_id: bug.id },
  };
}
