// The types of a decision: what decide() is given and what it answers.
import type { FilesystemFacts, IoMode, KernelFacts, SelfTestEvidence } from '../probes/types.js';
import type { KernelStatus, ParsedKernelRelease } from './kernel-release.js';
import type { KnowledgeBase } from './knowledge-base-schema.js';
import type { OperatorPolicy } from './operator-policy.js';
import type { HostQemu, Remedy } from './remedies.js';

export interface DecisionInput {
  filesystem: FilesystemFacts;
  kernel: KernelFacts;
  /** A self-test for THIS boot, kernel and filesystem, or null. */
  selftest: SelfTestEvidence | null;
  /** null = not given ⇒ assume an exposed mode. */
  io_mode: IoMode | null;
  policy: OperatorPolicy;
  knowledge_base: KnowledgeBase;
  /** What-if: judge this release instead of the running one (a self-test then does not apply). */
  kernel_release_override?: string;
  xfsguard_version: string;
  /** The host's QEMU versions (for remedies), or null/absent when not probed. */
  host_qemu?: HostQemu | null;
}

export type Verdict = 'affected' | 'fixed' | 'not_affected' | 'unknown';
export type DecisionConfidence = 'proven' | 'high' | 'medium' | 'low';

export interface ReasonItem {
  code: string;
  detail: string;
}

export interface KernelEvidence extends KernelFacts {
  /** The release that was judged: the running one, or the what-if release. */
  judged_release: string;
  what_if: boolean;
  parsed: ParsedKernelRelease;
  status: KernelStatus;
}

export interface Decision {
  format_version: 1;
  path: string;
  judged_directory: string;
  enable_workaround: boolean;
  /** Settings per platform that keep the disks at this path out of the race (policies/remedies.ts). */
  remedies: Remedy[];
  verdict: Verdict;
  confidence: DecisionConfidence;
  reasons: ReasonItem[];
  evidence: {
    filesystem: FilesystemFacts;
    kernel: KernelEvidence;
    /** The self-test as given (also when it was not used; reasons say why). */
    selftest: SelfTestEvidence | null;
    /** Whether the self-test was used for this decision. */
    selftest_used: boolean;
    io_mode: IoMode | null;
  };
  mitigations: ReasonItem[];
  policy: {
    mode: string;
    override: { prefix: string; action: 'enable' | 'disable'; reason: string } | null;
    source: string;
  };
  provenance: { xfsguard_version: string; knowledge_base_revision: string; bug_id: string };
}

/** What one step of the decision concluded: a verdict, how sure, and why. */
export interface Judged {
  verdict: Verdict;
  confidence: DecisionConfidence;
  reasons: ReasonItem[];
}
