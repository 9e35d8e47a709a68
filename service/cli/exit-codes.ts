// The exit codes, the same in every output mode. Documented in `xfsguard --help` and README.
// A decision's own codes come from the policy engine (exitCodeFor); these add the command's.
import { EXIT_AFFECTED, EXIT_NOT_NEEDED, EXIT_NOT_RULED_OUT } from '../../policies/exit-codes.js';

export const EXIT = {
  /** The workaround is not needed. */
  NOT_NEEDED: EXIT_NOT_NEEDED,
  /** Internal error. */
  INTERNAL: 1,
  /** Bad input or usage. */
  USAGE: 2,
  /** Needed: the race was reproduced or the kernel is known to be affected. */
  AFFECTED: EXIT_AFFECTED,
  /** Needed because it cannot be ruled out. */
  UNKNOWN: EXIT_NOT_RULED_OUT,
} as const;

export const EXIT_CODES_HELP = `Exit codes (the same with and without --json):
  0   the workaround is not needed
  10  the workaround is needed: the race was reproduced or the kernel is known affected
  11  the workaround is needed because it cannot be ruled out (unknown)
  2   bad input or usage
  1   internal error`;
