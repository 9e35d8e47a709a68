// The one reason to log with a verdict: the one that decided it, not merely the last one listed
// (decisions list the filesystem, kernel, self-test and I/O mode facts in that order).
import type { HookDecision } from './ask.js';

type Reason = HookDecision['reasons'][number];

/** Reason codes (exact, or a prefix ending in "_") that decide each verdict, strongest first. */
const DECIDERS: Record<string, readonly string[]> = {
  affected: ['selftest_reproduced', 'kernel_below_first_fixed', 'kernel_no_fix_known', 'kernel_'],
  fixed: ['selftest_trusted', 'kernel_fixed_', 'kernel_'],
  not_affected: ['io_mode_not_exposed', 'filesystem_not_xfs', 'filesystem_pseudo', 'kernel_bug_not_present'],
  unknown: ['filesystem_network', 'filesystem_fuse', 'filesystem_unknown', 'filesystem_overlay_unresolved', 'selftest_too_few_iterations', 'policy_conservative', 'kernel_unknown', 'kernel_'],
};

function matches(code: string, pattern: string): boolean {
  return pattern.endsWith('_') ? code.startsWith(pattern) : code === pattern;
}

export function decidingReason(d: HookDecision): Reason | null {
  // An operator override decides whether the workaround is on, whatever the verdict.
  const override = d.reasons.find((r) => r.code.startsWith('policy_override_'));
  if (override !== undefined) return override;
  for (const pattern of DECIDERS[d.verdict] ?? []) {
    const hit = d.reasons.find((r) => matches(r.code, pattern));
    if (hit !== undefined) return hit;
  }
  return d.reasons.at(-1) ?? null;
}
