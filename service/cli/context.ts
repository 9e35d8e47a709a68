// What every judging command needs: the operator policy, the knowledge base and the state directory.
import { KnowledgeBaseError, loadKnowledgeBase } from '../../policies/knowledge-base.js';
import { DEFAULT_POLICY_PATH, POLICY_ENV, PolicyError, defaultPolicy, parsePolicy, type OperatorPolicy } from '../../policies/operator-policy.js';
import { readRegularFileSync } from '../../probes/regular-file.js';
import { SelfTestCache, resolveStateDir } from '../../probes/selftest-cache.js';
import { StateDirError, checkStateDirSync } from '../../probes/state-dir.js';
import type { JudgeContext } from '../judge.js';
import { UsageError } from './usage-error.js';

/** A policy is a few lines of JSON: anything larger is not one (and /dev/zero never ends). */
export const MAX_POLICY_BYTES = 1024 * 1024;

export const CONTEXT_FLAGS = {
  policy: { type: 'string' },
  'state-dir': { type: 'string' },
} as const;

export const CONTEXT_HELP = `  --policy FILE        operator policy (default ${DEFAULT_POLICY_PATH}, or $${POLICY_ENV})
  --state-dir DIR      where self-test results are kept (default /var/lib/xfsguard, or $XFSGUARD_STATE_DIR)`;

export function warnToStderr(message: string): void {
  process.stderr.write(`xfsguard: warning: ${message}\n`);
}

/**
 * Reads the policy without blocking on what is not a file: a FIFO, /dev/zero or /dev/urandom named
 * by --policy is refused at once (regular files of at most MAX_POLICY_BYTES only).
 */
export function readPolicyFile(file: string, mustExist: boolean): OperatorPolicy {
  let text: string;
  try {
    text = readRegularFileSync(file, MAX_POLICY_BYTES);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' && !mustExist) return defaultPolicy();
    const why = err.code === 'ENOTREG' || err.code === 'EFBIG' ? err.message.replace(`${file} is `, '') : (err.code ?? err.message);
    throw new PolicyError(`${file}: cannot read: ${why}`, file);
  }
  return parsePolicy(text, file);
}

export function loadContext(flags: { policy?: string | undefined; 'state-dir'?: string | undefined }): JudgeContext {
  const explicit = flags.policy ?? process.env[POLICY_ENV];
  const stateDir = resolveStateDir(flags['state-dir']);
  try {
    const policy = readPolicyFile(explicit ?? DEFAULT_POLICY_PATH, explicit !== undefined);
    const knowledgeBase = loadKnowledgeBase();
    checkStateDirSync(stateDir);
    return { policy, knowledgeBase, cache: new SelfTestCache(stateDir, warnToStderr), warn: warnToStderr };
  } catch (err) {
    if (err instanceof PolicyError || err instanceof KnowledgeBaseError || err instanceof StateDirError) throw new UsageError(err.message);
    throw err;
  }
}
