// The exit codes, the same in every output mode. Documented in `xfsguard --help` and README.
export const EXIT = {
  /** The workaround is not needed. */
  NOT_NEEDED: 0,
  /** Internal error. */
  INTERNAL: 1,
  /** Bad input or usage. */
  USAGE: 2,
  /** Needed: the race was reproduced or the kernel is known to be affected. */
  AFFECTED: 10,
  /** Needed because it cannot be ruled out. */
  UNKNOWN: 11,
} as const;

export const EXIT_CODES_HELP = `Exit codes (the same with and without --json):
  0   the workaround is not needed
  10  the workaround is needed: the race was reproduced or the kernel is known affected
  11  the workaround is needed because it cannot be ruled out (unknown)
  2   bad input or usage
  1   internal error`;
