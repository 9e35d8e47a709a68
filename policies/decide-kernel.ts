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

/** A what-if naming the running kernel's own identity is no what-if: its facts and self-test apply. */
function isWhatIf(input: DecisionInput): boolean {
  const k = input.kernel;
  const release = input.kernel_release_override;
  if (release === undefined) return false;
  if (release.trim() !== k.release) return true;
  const version = input.kernel_version_override;
  const signature = input.version_signature_override;
  return (version !== undefined && version !== k.version) || (signature !== undefined && signature !== k.version_signature);
}

export function assessKernel(input: DecisionInput, kb: KnowledgeBase, bug: KbBug): KernelAssessment {
  const kernel = input.kernel;
  const whatIf = isWhatIf(input);
  const judgedRelease = whatIf ? (input.kernel_release_override ?? kernel.release) : kernel.release;
  // the running kernel's uname -v and version signature describe it only; a what-if brings its own (or none)
  const parsed = whatIf
    ? parseKernelRelease(judgedRelease, { version: input.kernel_version_override ?? null, signature: input.version_signature_override ?? null })
    : parseKernelRelease(kernel.release, { version: kernel.version, signature: kernel.version_signature });
  const status = kernelStatus(parsed, kb, bug.id);
  const reasons: ReasonItem[] = [];
  if (whatIf) {
    const identity = [
      input.kernel_version_override !== undefined ? `uname -v ${JSON.stringify(input.kernel_version_override)}` : null,
      input.version_signature_override !== undefined ? `version signature ${JSON.stringify(input.version_signature_override)}` : null,
    ].filter((x) => x !== null);
    const withIdentity = identity.length > 0 ? ` (with ${identity.join(' and ')})` : ' (release only: no uname -v or version signature given)';
    reasons.push({ code: 'kernel_what_if', detail: `what-if: judging kernel ${judgedRelease}${withIdentity} instead of the running ${kernel.release}` });
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
