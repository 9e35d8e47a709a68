// The self-test single flight of the service: one self-test per filesystem, none outside the roots.
import { isUnderAllowedRoots, type OperatorPolicy } from '../../policies/operator-policy.js';
import { SelfTestSingleFlight } from '../../probes/selftest.js';
import type { FilesystemFacts, SelfTestReport } from '../../probes/types.js';
import { notAllowed } from './errors.js';

/**
 * One self-test per filesystem at a time, and none outside the allowed roots: the check is made on
 * the facts the self-test is about to use, so no path resolution race can move it elsewhere.
 */
export class AllowedRootsSingleFlight extends SelfTestSingleFlight {
  constructor(private readonly policy: OperatorPolicy) {
    super();
  }

  override run(fs: FilesystemFacts, start: () => Promise<SelfTestReport>): { report: Promise<SelfTestReport>; joined: boolean } {
    if (!isUnderAllowedRoots(fs.judged_directory, this.policy)) {
      return { report: Promise.reject(notAllowed(fs.requested_path, fs.judged_directory, this.policy)), joined: false };
    }
    return super.run(fs, start);
  }
}
