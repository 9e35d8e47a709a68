// Decision step "kernel": which release is judged (the running one, or a what-if), how it parses, and what
// the knowledge base says of it, as a reason that names the rule, its comparison and its confidence.
import type { DecisionInput, ReasonItem } from './decide-types.js';
import { kernelStatus, parseKernelRelease, type KernelStatus, type ParsedKernelRelease } from './kernel-release.js';
import type { KbBug, KnowledgeBase } from './knowledge-base-schema.js';

export interface KernelAssessment {
  what_if: boolean;
  judged_release: string;
  parsed: ParsedKernelRelease;
  status: KernelStatus;
  reasons: ReasonItem[];
}

export function assessKernel(input: DecisionInput, kb: KnowledgeBase, bug: KbBug): KernelAssessment {
  const kernel = input.kernel;
  // a what-if naming the running release is no what-if: the running kernel's facts and self-test apply
  const whatIf = input.kernel_release_override !== undefined && input.kernel_release_override.trim() !== kernel.release;
  const judgedRelease = whatIf ? input.kernel_release_override! : kernel.release;
  // uname -v and the version signature describe the running kernel only
  const parsed = whatIf
    ? parseKernelRelease(judgedRelease)
    : parseKernelRelease(kernel.release, { version: kernel.version, signature: kernel.version_signature });
  const status = kernelStatus(parsed, kb, bug.id);
  const reasons: ReasonItem[] = [];
  if (whatIf) {
    reasons.push({ code: 'kernel_what_if', detail: `what-if: judging kernel ${judgedRelease} instead of the running ${kernel.release}` });
  }
  return { what_if: whatIf, judged_release: judgedRelease, parsed, status, reasons };
}

export function kernelReason(k: KernelStatus, p: ParsedKernelRelease): ReasonItem {
  const what = `kernel ${p.release} (stream ${p.stream}${p.upstream_string ? `, upstream ${p.upstream_string}` : ''})`;
  const rule = `rule ${k.rule}: ${k.rule_detail}${k.comparison ? ` [${k.comparison}]` : ''} (${k.confidence})`;
  switch (k.status) {
    case 'fixed': {
      let code = 'kernel_fixed_by_base';
      if (k.rule_status === 'fixed_from') code = 'kernel_fixed_backport';
      else if (p.stream === 'mainline' || p.stream === 'stable') code = 'kernel_fixed_upstream';
      else if (p.stream === 'custom') code = 'kernel_fixed_by_upstream_version_only';
      return { code, detail: `${what} carries the fix per ${rule}` };
    }
    case 'affected':
      return k.rule_status === 'fixed_from'
        ? { code: 'kernel_below_first_fixed', detail: `${what} predates the fix per ${rule}` }
        : { code: 'kernel_no_fix_known', detail: `${what} has the bug and no fix is known, per ${rule}` };
    case 'not_present':
      return { code: 'kernel_bug_not_present', detail: `${what} predates the bug per ${rule}` };
    case 'unknown':
      return { code: 'kernel_unknown', detail: `${what}: fix status unknown per ${rule}` };
  }
}
