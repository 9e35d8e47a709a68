// What every judging command needs: the operator policy, the knowledge base and the state directory.
import { KnowledgeBaseError, loadKnowledgeBase } from '../../policies/knowledge-base.js';
import { DEFAULT_POLICY_PATH, POLICY_ENV, PolicyError, loadPolicy } from '../../policies/operator-policy.js';
import { SelfTestCache, resolveStateDir } from '../../probes/selftest-cache.js';
import type { JudgeContext } from '../judge.js';
import { UsageError } from './usage-error.js';

export const CONTEXT_FLAGS = {
  policy: { type: 'string' },
  'state-dir': { type: 'string' },
} as const;

export const CONTEXT_HELP = `  --policy FILE        operator policy (default ${DEFAULT_POLICY_PATH}, or $${POLICY_ENV})
  --state-dir DIR      where self-test results are kept (default /var/lib/xfsguard, or $XFSGUARD_STATE_DIR)`;

export function warnToStderr(message: string): void {
  process.stderr.write(`xfsguard: warning: ${message}\n`);
}

export function loadContext(flags: { policy?: string | undefined; 'state-dir'?: string | undefined }): JudgeContext {
  const explicit = flags.policy ?? process.env[POLICY_ENV];
  try {
    const policy = loadPolicy(explicit ?? DEFAULT_POLICY_PATH, { mustExist: explicit !== undefined });
    const knowledgeBase = loadKnowledgeBase();
    return { policy, knowledgeBase, cache: new SelfTestCache(resolveStateDir(flags['state-dir']), warnToStderr), warn: warnToStderr };
  } catch (err) {
    if (err instanceof PolicyError || err instanceof KnowledgeBaseError) throw new UsageError(err.message);
    throw err;
  }
}
