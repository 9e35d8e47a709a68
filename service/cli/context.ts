// What every judging command needs, read synchronously (serve, selftest, boot-check, the hooks'
// in-process judgement). `check` and `explain` use judge-context.ts's loadContextAsync(), which loads
// the policy file's reader only when there is a file.
import { defaultPolicy, type OperatorPolicy } from '../../policies/operator-policy.js';
import { parsePolicy } from '../../policies/policy-file.js';
import type { JudgeContext } from '../judge.js';
import { CONTEXT_FLAGS, CONTEXT_HELP, MAX_POLICY_BYTES, asUsageError, contextSources, contextWith, readPolicyText, warnToStderr, type ContextFlags } from './judge-context.js';

export { CONTEXT_FLAGS, CONTEXT_HELP, MAX_POLICY_BYTES, warnToStderr };

/** The policy in `file`, or the defaults when it is absent and was not named explicitly. */
export function readPolicyFile(file: string, mustExist: boolean): OperatorPolicy {
  const text = readPolicyText(file, mustExist);
  return text === null ? defaultPolicy() : parsePolicy(text, file);
}

export function loadContext(flags: ContextFlags): JudgeContext {
  const { file, mustExist, stateDir } = contextSources(flags);
  try {
    return contextWith(readPolicyFile(file, mustExist), stateDir);
  } catch (err) {
    throw asUsageError(err);
  }
}
