// Operator policy: a strict JSON file (default /etc/xfsguard/policy.json). The CLI picks the path
// (--policy flag, then env XFSGUARD_POLICY, then DEFAULT_POLICY_PATH) and calls loadPolicy().
//
// {
//   "mode": "conservative" | "trust-selftest",     // default conservative
//   "trust_selftest_min_iterations": 100,          // int ≥ 1; used by trust-selftest
//   "overrides": [{ "prefix": "/abs/path", "action": "enable" | "disable", "reason": "why" }],
//   "allowed_roots": ["/abs/path", ...]            // where the self-test / checks may operate
// }
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type * as z from 'zod/mini';
import { findDuplicateKey } from './json-duplicate-keys.js';
import { formatIssueMessage, formatIssuePath } from './issue-format.js';
import { plainPolicyFile } from './policy-file-plain.js';
import { DEFAULT_ALLOWED_ROOTS, DEFAULT_TRUST_SELFTEST_MIN_ITERATIONS, normalizePath, policyFileSchemas, type PolicyFileSchemas } from './policy-file-schema.js';

export { DEFAULT_ALLOWED_ROOTS, DEFAULT_TRUST_SELFTEST_MIN_ITERATIONS, normalizePath, policyFileSchemas };

export const DEFAULT_POLICY_PATH = '/etc/xfsguard/policy.json';
export const POLICY_ENV = 'XFSGUARD_POLICY';


export type PolicyOverride = z.infer<PolicyFileSchemas['OverrideSchema']>;
export type PolicyMode = 'conservative' | 'trust-selftest';

export interface OperatorPolicy {
  mode: PolicyMode;
  trust_selftest_min_iterations: number;
  overrides: PolicyOverride[];
  allowed_roots: string[];
  /** The file it came from, or 'built-in defaults'. */
  source: string;
}

export class PolicyError extends Error {
  override name = 'PolicyError';
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
  }
}

/** true when `p` is `prefix` or below it, on path-component boundaries (/a/b matches /a/b/c, not /a/bc). */
export function isUnderPrefix(p: string, prefix: string): boolean {
  const a = normalizePath(p);
  const b = normalizePath(prefix);
  if (b === '/') return a.startsWith('/');
  return a === b || a.startsWith(`${b}/`);
}

export function defaultPolicy(): OperatorPolicy {
  return {
    mode: 'conservative',
    trust_selftest_min_iterations: DEFAULT_TRUST_SELFTEST_MIN_ITERATIONS,
    overrides: [],
    allowed_roots: [...DEFAULT_ALLOWED_ROOTS],
    source: 'built-in defaults',
  };
}

/** Parses policy JSON text. Throws PolicyError naming the file, the field and the problem; never returns a partial policy. */
export function parsePolicy(text: string, file: string): OperatorPolicy {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new PolicyError(`${file}: invalid JSON: ${(e as Error).message}`, file);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new PolicyError(`${file}: (root): expected a JSON object`, file);
  }
  const dup = findDuplicateKey(text);
  if (dup !== null) {
    throw new PolicyError(`${file}: duplicate key ${JSON.stringify(dup.key)} at line ${dup.line} column ${dup.column}: which one applies would be ambiguous`, file);
  }
  // a plainly well-formed file is taken as the schema would take it; zod explains (or accepts) the rest
  const plain = plainPolicyFile(data);
  if (plain !== null) return { ...plain, source: file };
  const r = policyFileSchemas().PolicyFileSchema.safeParse(data);
  if (!r.success) {
    const parts = r.error.issues.map((i) => {
      if (i.code === 'unrecognized_keys') {
        const base = formatIssuePath(i.path);
        return i.keys
          .map((k) => `${base === '(root)' ? k : `${base}.${k}`}: unknown key`)
          .join('; ');
      }
      return `${formatIssuePath(i.path)}: ${formatIssueMessage(i.message)}`;
    });
    throw new PolicyError(`${file}: ${parts.join('; ')}`, file);
  }
  return { ...r.data, source: file };
}

/**
 * Loads the policy file. A missing file gives the built-in defaults unless `mustExist` (a path the operator
 * named explicitly — flag or XFSGUARD_POLICY), in which case it is an error, as is any unreadable file.
 */
export function loadPolicy(file: string = DEFAULT_POLICY_PATH, opts: { mustExist?: boolean } = {}): OperatorPolicy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' && !opts.mustExist) return defaultPolicy();
    throw new PolicyError(`${file}: cannot read: ${err.code ?? err.message}`, file);
  }
  return parsePolicy(text, file);
}

/** The override whose prefix is the longest one matching any of the paths, or null. */
export function matchOverride(paths: readonly string[], policy: OperatorPolicy): PolicyOverride | null {
  let best: PolicyOverride | null = null;
  for (const o of policy.overrides) {
    if (!paths.some((p) => isUnderPrefix(p, o.prefix))) continue;
    if (best === null || normalizePath(o.prefix).length > normalizePath(best.prefix).length) best = o;
  }
  return best;
}

/** true when the path is one of the allowed roots or below one (component-boundary match). */
export function isUnderAllowedRoots(p: string, policy: Pick<OperatorPolicy, 'allowed_roots'>): boolean {
  if (!path.posix.isAbsolute(p)) return false;
  return policy.allowed_roots.some((r) => isUnderPrefix(p, r));
}
