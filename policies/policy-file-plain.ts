// The policy file as PolicyFileSchema (policy-file-schema.ts) reads it, for a plainly well-formed file
// only, without building the schema (issue 11: `check` reads the policy at every start, and building
// the zod schema costs about a tenth of a bare node start-up). Anything it is not sure of — a wrong
// type, an unknown key, a relative or empty path, a duplicate prefix — gives null, and the schema
// then explains the problem or accepts what is odd but valid. test/policies-policy-file-plain.test.ts
// checks that it never answers differently from the schema.
import path from 'node:path';
import { DEFAULT_ALLOWED_ROOTS, DEFAULT_TRUST_SELFTEST_MIN_ITERATIONS, normalizePath } from './policy-defaults.js';
import type { PolicyFile } from './policy-file-schema.js';

type Override = PolicyFile['overrides'][number];

const KEYS = new Set(['mode', 'trust_selftest_min_iterations', 'overrides', 'allowed_roots']);
const OVERRIDE_KEYS = ['prefix', 'action', 'reason'];

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A path the schema accepts: a non-empty absolute string without NUL; normalised as the schema does. */
function absolutePath(x: unknown): string | null {
  if (typeof x !== 'string' || x.length === 0 || !path.posix.isAbsolute(x) || x.includes('\0')) return null;
  return normalizePath(x);
}

function override(x: unknown): Override | null {
  if (!isRecord(x)) return null;
  const keys = Object.keys(x);
  if (keys.length !== OVERRIDE_KEYS.length || !OVERRIDE_KEYS.every((k) => Object.hasOwn(x, k))) return null;
  const prefix = absolutePath(x.prefix);
  const { action, reason } = x;
  if (prefix === null || (action !== 'enable' && action !== 'disable')) return null;
  if (typeof reason !== 'string' || reason.trim().length === 0) return null;
  return { prefix, action, reason };
}

/** What PolicyFileSchema.parse(data) returns, when data is plainly well-formed; otherwise null. */
export function plainPolicyFile(data: unknown): PolicyFile | null {
  if (!isRecord(data) || !Object.keys(data).every((k) => KEYS.has(k))) return null;
  const { mode = 'conservative', trust_selftest_min_iterations: min = DEFAULT_TRUST_SELFTEST_MIN_ITERATIONS } = data;
  if (mode !== 'conservative' && mode !== 'trust-selftest') return null;
  if (!Number.isSafeInteger(min) || (min as number) < 1) return null;

  const overrides: Override[] = [];
  if (data.overrides !== undefined) {
    if (!Array.isArray(data.overrides)) return null;
    const prefixes = new Set<string>();
    for (const x of data.overrides) {
      const o = override(x);
      if (o === null || prefixes.has(o.prefix)) return null;
      prefixes.add(o.prefix);
      overrides.push(o);
    }
  }

  let allowedRoots = [...DEFAULT_ALLOWED_ROOTS];
  if (data.allowed_roots !== undefined) {
    if (!Array.isArray(data.allowed_roots)) return null;
    allowedRoots = [];
    for (const x of data.allowed_roots) {
      const p = absolutePath(x);
      if (p === null) return null;
      allowedRoots.push(p);
    }
  }
  return { mode, trust_selftest_min_iterations: min as number, overrides, allowed_roots: allowedRoots };
}
