// What every judging command needs: the operator policy, the knowledge base and the state directory.
// The policy file's reader is loaded by loadContextAsync() only when there is a file: its first steps
// (policies/policy-file-read.ts: JSON, duplicate keys, a plainly well-formed file) for any file, its
// zod schema (policy-file.ts) only for the rest. context.ts has the synchronous loadContext().
import { KnowledgeBaseError, loadKnowledgeBase } from '../../policies/knowledge-base.js';
import { DEFAULT_POLICY_PATH, POLICY_ENV, PolicyError, defaultPolicy, type OperatorPolicy } from '../../policies/operator-policy.js';
import { readRegularFileSync } from '../../probes/regular-file.js';
import { SelfTestCache, resolveStateDir } from '../../probes/selftest-cache.js';
import { StateDirError, checkStateDirSync } from '../../probes/state-dir.js';
import { PRIORITY, journalLine } from '../journal.js';
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

export type ContextFlags = { policy?: string | undefined; 'state-dir'?: string | undefined };

export function warnToStderr(message: string): void {
  process.stderr.write(`${journalLine(PRIORITY.warning, `xfsguard: warning: ${message}`)}\n`);
}

/**
 * The policy file's text, or null when it is absent and was not named explicitly (the defaults apply).
 * Reads without blocking on what is not a file: a FIFO, /dev/zero or /dev/urandom named by --policy
 * is refused at once (regular files of at most MAX_POLICY_BYTES only).
 */
export function readPolicyText(file: string, mustExist: boolean): string | null {
  try {
    return readRegularFileSync(file, MAX_POLICY_BYTES);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' && !mustExist) return null;
    const why = err.code === 'ENOTREG' || err.code === 'EFBIG' ? err.message.replace(`${file} is `, '') : (err.code ?? err.message);
    throw new PolicyError(`${file}: cannot read: ${why}`, file);
  }
}

/** Which policy file, and the state directory, from the flags and the environment. */
export function contextSources(flags: ContextFlags): { file: string; mustExist: boolean; stateDir: string } {
  const explicit = flags.policy ?? process.env[POLICY_ENV];
  return { file: explicit ?? DEFAULT_POLICY_PATH, mustExist: explicit !== undefined, stateDir: resolveStateDir(flags['state-dir']) };
}

/** The rest of the context for a policy at hand. */
export function contextWith(policy: OperatorPolicy, stateDir: string): JudgeContext {
  const knowledgeBase = loadKnowledgeBase();
  checkStateDirSync(stateDir);
  return { policy, knowledgeBase, cache: new SelfTestCache(stateDir, warnToStderr), warn: warnToStderr };
}

/**
 * A bad policy, knowledge base or state directory is bad input: one line, exit 2. (A PolicyError is
 * told by name: built, the policy file's reader is a bundle of its own, with its own copy of the class.)
 */
export function asUsageError(err: unknown): unknown {
  const policyError = err instanceof Error && err.name === 'PolicyError';
  return policyError || err instanceof KnowledgeBaseError || err instanceof StateDirError ? new UsageError(err.message) : err;
}

/** parsePolicy(), loading the zod schema only for a file that is not plainly well-formed. */
async function parsePolicyLazily(text: string, file: string): Promise<OperatorPolicy> {
  const first = (await import('../../policies/policy-file-read.js')).readPolicyPlainly(text, file);
  if ('policy' in first) return first.policy;
  return (await import('../../policies/policy-file.js')).parsePolicyData(first.data, file);
}

export async function loadContextAsync(flags: ContextFlags): Promise<JudgeContext> {
  const { file, mustExist, stateDir } = contextSources(flags);
  try {
    const text = readPolicyText(file, mustExist);
    const policy = text === null ? defaultPolicy() : await parsePolicyLazily(text, file);
    return contextWith(policy, stateDir);
  } catch (err) {
    throw asUsageError(err);
  }
}
