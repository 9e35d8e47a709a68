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
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { findDuplicateKey } from './json-duplicate-keys.js';
import { formatIssueMessage, formatIssuePath } from './issue-format.js';

export const DEFAULT_POLICY_PATH = '/etc/xfsguard/policy.json';
export const POLICY_ENV = 'XFSGUARD_POLICY';

/**
 * Default allowed roots: the usual VM image directories — libvirt's default storage pool, OpenStack Nova's
 * instance directory, KubeVirt's host-disk/data directory, the conventional /srv/vm and Proxmox VE's /var/lib/vz. Operators with images
 * elsewhere add their directories in the policy file.
 */
export const DEFAULT_ALLOWED_ROOTS: readonly string[] = ['/var/lib/libvirt/images', '/var/lib/nova/instances', '/var/lib/kubevirt', '/srv/vm', '/var/lib/vz'];
export const DEFAULT_TRUST_SELFTEST_MIN_ITERATIONS = 100;

// zod/mini carries no messages of its own: the English ones full zod uses ("expected array, received string").
z.config(en());

// zod/mini (same package and checks as zod, tree-shaken): `check` reads the policy on every run, and
// full zod's import alone costs most of a bare node start-up (issue 11).
const absolutePath = z.pipe(
  z
    .string({ error: (i) => (i.input === undefined ? 'required' : 'expected a string') })
    .check(
      z.minLength(1, { message: 'must not be empty' }),
      z.refine((p) => path.posix.isAbsolute(p), { message: 'must be an absolute path' }),
      z.refine((p) => !p.includes('\0'), { message: 'must not contain NUL' }),
    ),
  z.transform((p: string) => normalizePath(p)),
);

export const OverrideSchema = z.strictObject({
  prefix: absolutePath,
  action: z.enum(['enable', 'disable'], { error: () => 'must be "enable" or "disable"' }),
  reason: z
    .string({ error: (i) => (i.input === undefined ? 'required' : 'expected a string') })
    .check(z.refine((s) => s.trim().length > 0, { message: 'must be a non-empty string' })),
});

export const PolicyFileSchema = z
  .strictObject({
    mode: z._default(z.enum(['conservative', 'trust-selftest'], { error: () => 'must be "conservative" or "trust-selftest"' }), 'conservative'),
    trust_selftest_min_iterations: z._default(
      z
        .number({ error: () => 'expected an integer ≥ 1' })
        .check(z.int({ message: 'expected an integer ≥ 1' }), z.minimum(1, { message: 'expected an integer ≥ 1' })),
      DEFAULT_TRUST_SELFTEST_MIN_ITERATIONS,
    ),
    overrides: z._default(z.array(OverrideSchema), []),
    allowed_roots: z._default(z.array(absolutePath), [...DEFAULT_ALLOWED_ROOTS]),
  })
  .check(
    z.superRefine((p, ctx) => {
      // two overrides for the same prefix would make the answer depend on their order
      const seen = new Map<string, number>();
      p.overrides.forEach((o, i) => {
        const prev = seen.get(o.prefix);
        if (prev !== undefined) ctx.addIssue({ code: 'custom', path: ['overrides', i, 'prefix'], message: `duplicate of overrides[${prev}].prefix (${o.prefix})` });
        else seen.set(o.prefix, i);
      });
    }),
  );

export type PolicyOverride = z.infer<typeof OverrideSchema>;
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

/** Collapses duplicate and trailing slashes and . / .. components (purely lexical; no symlink resolution). */
export function normalizePath(p: string): string {
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
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
  const r = PolicyFileSchema.safeParse(data);
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
