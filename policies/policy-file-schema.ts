// The policy file's schema, in zod/mini (same package and checks as zod). tools/bundle-cli.mjs bundles
// this file on its own, tree-shaken, so that `check` (which reads /etc/xfsguard/policy.json on every
// run) loads a few KB of zod instead of the whole of it (issue 11).
import path from 'node:path';
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

import { DEFAULT_ALLOWED_ROOTS, DEFAULT_TRUST_SELFTEST_MIN_ITERATIONS, normalizePath } from './policy-defaults.js';

export { DEFAULT_ALLOWED_ROOTS, DEFAULT_TRUST_SELFTEST_MIN_ITERATIONS, normalizePath };

// zod/mini (same package and checks as zod, tree-shaken): `check` reads the policy on every run, and
// full zod's import alone costs most of a bare node start-up (issue 11). The schemas are built on
// first use, not at load: building them costs about as much as loading zod/mini, and a start-up
// without a policy file, or with a plainly well-formed one (policy-file-plain.ts), needs none.
function build() {
  // zod/mini carries no messages of its own: the English ones full zod uses ("expected array, received string").
  z.config(en());
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

  const OverrideSchema = z.strictObject({
    prefix: absolutePath,
    action: z.enum(['enable', 'disable'], { error: () => 'must be "enable" or "disable"' }),
    reason: z
      .string({ error: (i) => (i.input === undefined ? 'required' : 'expected a string') })
      .check(z.refine((s) => s.trim().length > 0, { message: 'must be a non-empty string' })),
  });

  const PolicyFileSchema = z
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
  return { OverrideSchema, PolicyFileSchema };
}

export type PolicyFileSchemas = ReturnType<typeof build>;
/** What the policy file's schema gives for a valid file (defaults filled in, paths normalised). */
export type PolicyFile = z.output<PolicyFileSchemas['PolicyFileSchema']>;
let built: PolicyFileSchemas | undefined;

/** The policy file's schemas (built once, on first use). */
export function policyFileSchemas(): PolicyFileSchemas {
  built ??= build();
  return built;
}
