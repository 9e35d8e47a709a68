// Operator policy: a strict JSON file (default /etc/xfsguard/policy.json). The CLI picks the path
// (--policy flag, then env XFSGUARD_POLICY, then DEFAULT_POLICY_PATH) and calls loadPolicy() (policy-file.ts).
//
// {
//   "mode": "conservative" | "trust-selftest",     // default conservative
//   "trust_selftest_min_iterations": 100,          // int ≥ 1; used by trust-selftest
//   "overrides": [{ "prefix": "/abs/path", "action": "enable" | "disable", "reason": "why" }],
//   "allowed_roots": ["/abs/path", ...]            // where the self-test / checks may operate
// }
// Reading the file (parsePolicy, loadPolicy) is policy-file.ts: only what reads one loads its schema.
import path from 'node:path';
import type * as z from 'zod/mini';
import { DEFAULT_ALLOWED_ROOTS, DEFAULT_TRUST_SELFTEST_MIN_ITERATIONS, normalizePath } from './policy-defaults.js';
import type { PolicyFileSchemas } from './policy-file-schema.js';

export { DEFAULT_ALLOWED_ROOTS, DEFAULT_TRUST_SELFTEST_MIN_ITERATIONS, normalizePath };

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
