// The one reason that decided a verdict, for one-line renderings (check's "why", the hooks' log):
// decisions list the filesystem, kernel, self-test and I/O mode facts in that order, so neither
// the first nor the last listed reason is the deciding one.

interface Reasoned<R extends { code: string }> {
  verdict: string;
  reasons: readonly R[];
}

const KERNEL = /^kernel_(?!what_if$)/;

/** Reason codes that decide each verdict, strongest first. */
const DECIDERS: Record<string, readonly RegExp[]> = {
  affected: [/^selftest_reproduced$/, /^kernel_(below_first_fixed|no_fix_known)$/, KERNEL],
  fixed: [/^selftest_(trusted|corroborates_belief)$/, /^kernel_fixed_/, KERNEL],
  not_affected: [/^io_mode_not_exposed$/, /^filesystem_(not_xfs|pseudo)$/, /^selftest_corroborates_belief$/, /^kernel_bug_not_present$/],
  unknown: [
    /^selftest_timed_out$/,
    /^filesystem_(network|fuse|unknown|overlay_unresolved)$/,
    /^kernel_belief_not_enough$/,
    /^selftest_too_few_iterations$/,
    /^policy_conservative$/,
    /^kernel_unknown$/,
    KERNEL,
  ],
};

export function decidingReason<R extends { code: string }>(d: Reasoned<R>): R | null {
  // An operator override decides whether the workaround is on, whatever the verdict.
  const override = d.reasons.find((r) => r.code.startsWith('policy_override_'));
  if (override !== undefined) return override;
  for (const pattern of DECIDERS[d.verdict] ?? []) {
    const hit = d.reasons.find((r) => pattern.test(r.code));
    if (hit !== undefined) return hit;
  }
  return d.reasons.find((r) => r.code !== 'kernel_what_if') ?? null;
}
