// decide() is a pure function of its facts: a busy service asked about the same path again and
// again computes the decision once per change of those facts, not once per request. What changes
// per request without changing the judgement (free space, a stored self-test's exact age) is put
// back into the remembered decision; every other fact must be the very same for a hit.
import type { Decision, DecisionInput } from '../policies/decide.js';
import type { FilesystemFacts, SelfTestEvidence } from '../probes/types.js';

/** The facts one remembered decision was computed from (kernel, policy, knowledge base: the service's own, compared by identity). */
interface Entry {
  input: DecisionInput;
  /** Anything else the decision was computed from (the host's QEMU facts), compared by identity. */
  extra: unknown;
  decision: Decision;
}

/** Same filesystem facts apart from free space: a reused probe is a copy sharing every nested value. */
function sameFilesystem(a: FilesystemFacts, b: FilesystemFacts): boolean {
  if (a === b) return true;
  const ka = Object.keys(a) as (keyof FilesystemFacts)[];
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (k !== 'free_bytes' && a[k] !== b[k]) return false;
  return true;
}

/** Same self-test evidence as far as a decision can tell: the same report, and its age in the seconds the reasons print. */
function sameSelftest(a: SelfTestEvidence | null, b: SelfTestEvidence | null): boolean {
  if (a === null || b === null) return a === b;
  return a.report === b.report && a.cached === b.cached && Math.round(a.age_ms / 1000) === Math.round(b.age_ms / 1000);
}

function sameInput(a: DecisionInput, b: DecisionInput): boolean {
  return (
    sameFilesystem(a.filesystem, b.filesystem) &&
    sameSelftest(a.selftest, b.selftest) &&
    a.kernel === b.kernel &&
    a.io_mode === b.io_mode &&
    a.policy === b.policy &&
    a.knowledge_base === b.knowledge_base &&
    a.kernel_release_override === b.kernel_release_override &&
    a.kernel_version_override === b.kernel_version_override &&
    a.version_signature_override === b.version_signature_override &&
    a.xfsguard_version === b.xfsguard_version
  );
}

export interface Memoized {
  decision: Decision;
  /** Identifies the remembered decision this one was made from: the same object for every hit. */
  basis: Decision;
}

export class DecisionMemo {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries = 256) {}

  /**
   * The decision for these facts: the remembered one when every fact that can change it is the
   * same (with this request's free space and self-test age), otherwise compute() and remember it.
   */
  decide(input: DecisionInput, extra: unknown, compute: () => Decision): Memoized {
    const key = `${input.filesystem.requested_path}\0${input.io_mode}\0${input.kernel_release_override}\0${input.kernel_version_override}\0${input.version_signature_override}`;
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.extra === extra && sameInput(hit.input, input)) {
      const d = hit.decision;
      return { decision: { ...d, evidence: { ...d.evidence, filesystem: input.filesystem, selftest: input.selftest } }, basis: d };
    }
    const decision = compute();
    this.entries.delete(key);
    this.entries.set(key, { input, extra, decision });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return { decision, basis: decision };
  }
}
