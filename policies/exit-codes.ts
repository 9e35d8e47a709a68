// A decision's exit codes, with no imports: every CLI command loads this at start-up (the libvirt hook
// runs on each VM start), so it must not pull in the decision engine.

/** 0: the workaround is not needed. */
export const EXIT_NOT_NEEDED = 0;
/** 10: needed — the race was reproduced or the kernel is known to be affected. */
export const EXIT_AFFECTED = 10;
/** 11: needed because it cannot be ruled out. */
export const EXIT_NOT_RULED_OUT = 11;

export function exitCodeFor(decision: { enable_workaround: boolean; verdict: string }): number {
  if (!decision.enable_workaround) return EXIT_NOT_NEEDED;
  return decision.verdict === 'affected' ? EXIT_AFFECTED : EXIT_NOT_RULED_OUT;
}
