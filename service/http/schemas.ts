// zod schemas for every request and response of the HTTP API; the OpenAPI document is generated
// from them. Response schemas mirror the types the judging flow produces (compile-time checked
// below), so the decision served is the same document as `xfsguard check --json`.
import { z } from 'zod';
import type { Decision } from '../../policies/decide.js';
import { KERNEL_STREAMS, RULE_STATUSES, CONFIDENCES } from '../../policies/knowledge-base-schema.js';
import { selfTestReportSchema } from '../../probes/selftest-schema.js';
import type { FilesystemFacts, KernelFacts, SelfTestEvidence } from '../../probes/types.js';

// ---------------------------------------------------------------- common

export const errorSchema = z
  .object({
    code: z.string().describe('machine-readable error code, e.g. path_relative, path_not_allowed, invalid_query'),
    message: z.string().describe('what was wrong, for a human'),
    request_id: z.string().optional().describe('the request id in the service log (5xx only)'),
  })
  .meta({ id: 'Error' });

const PATH_DESCRIPTION =
  'absolute path of a VM image or of the directory that holds (or will hold) images; at most 4095 bytes, no NUL; must be inside the policy\'s allowed_roots';

const pathParam = z.string().describe(PATH_DESCRIPTION);

// ---------------------------------------------------------------- facts

const fsClassSchema = z.enum(['local', 'network', 'fuse', 'overlay', 'pseudo', 'unknown']);

const mountSchema = z.object({
  mount_id: z.number(),
  mount_point: z.string(),
  device: z.string(),
  fs_type: z.string(),
  source: z.string(),
  options: z.array(z.string()),
  super_options: z.array(z.string()),
});

export const filesystemFactsSchema = z
  .object({
    requested_path: z.string(),
    judged_directory: z.string(),
    path_kind: z.enum(['directory', 'file', 'missing', 'other']),
    magic: z.number(),
    magic_hex: z.string(),
    fs_type: z.string(),
    fs_class: fsClassSchema,
    device: z.string(),
    fs_uuid: z.string().nullable(),
    block_size: z.number(),
    free_bytes: z.number(),
    read_only: z.boolean(),
    mount: mountSchema.nullable(),
    overlay_upper: z
      .object({ directory: z.string(), magic_hex: z.string(), fs_type: z.string(), fs_class: fsClassSchema })
      .nullable(),
    notes: z.array(z.string()),
  })
  .meta({ id: 'FilesystemFacts' });

export const distroSchema = z.object({
  id: z.string().nullable(),
  version_id: z.string().nullable(),
  pretty_name: z.string().nullable(),
  id_like: z.array(z.string()),
});

export const kernelFactsSchema = z
  .object({
    release: z.string(),
    version: z.string(),
    version_signature: z.string().nullable(),
    upstream: z.string().nullable(),
    distro: distroSchema.nullable(),
    boot_id: z.string().nullable(),
  })
  .meta({ id: 'KernelFacts' });

const parsedKernelReleaseSchema = z.object({
  release: z.string(),
  upstream: z.object({ major: z.number(), minor: z.number(), patch: z.number() }).nullable(),
  upstream_string: z.string().nullable(),
  rc: z.number().nullable(),
  upstream_exact: z.boolean(),
  stream: z.enum(KERNEL_STREAMS),
  distro_release: z.string().nullable(),
  package_version: z.string().nullable(),
  flavour: z.string().nullable(),
  arch: z.string().nullable(),
  notes: z.array(z.string()),
});

const kernelStatusSchema = z.object({
  status: z.enum(['affected', 'fixed', 'not_present', 'unknown']),
  confidence: z.enum(CONFIDENCES),
  rule: z.string(),
  rule_detail: z.string(),
  rule_status: z.enum([...RULE_STATUSES, 'none']),
  source: z.string(),
  comparison: z.string().nullable(),
});

export const selfTestReportResponseSchema = selfTestReportSchema.meta({ id: 'SelfTestReport' });

export const selfTestEvidenceSchema = z.object({
  report: selfTestReportResponseSchema,
  cached: z.boolean().describe('read from the stored results rather than run for this request'),
  age_ms: z.number(),
});

// ---------------------------------------------------------------- decision

const reasonSchema = z.object({ code: z.string(), detail: z.string() });

export const decisionSchema = z
  .object({
    format_version: z.literal(1),
    path: z.string(),
    judged_directory: z.string(),
    enable_workaround: z.boolean().describe('the answer: enable QEMU\'s workaround for images at this path'),
    verdict: z.enum(['affected', 'fixed', 'not_affected', 'unknown']),
    confidence: z.enum(['proven', 'high', 'medium', 'low']),
    reasons: z.array(reasonSchema),
    evidence: z.object({
      filesystem: filesystemFactsSchema,
      kernel: kernelFactsSchema.extend({
        judged_release: z.string(),
        what_if: z.boolean(),
        parsed: parsedKernelReleaseSchema,
        status: kernelStatusSchema,
      }),
      selftest: selfTestEvidenceSchema.nullable(),
      selftest_used: z.boolean(),
      io_mode: z.enum(['native', 'io_uring', 'threads']).nullable(),
    }),
    mitigations: z.array(reasonSchema),
    policy: z.object({
      mode: z.string(),
      override: z.object({ prefix: z.string(), action: z.enum(['enable', 'disable']), reason: z.string() }).nullable(),
      source: z.string(),
    }),
    provenance: z.object({ xfsguard_version: z.string(), knowledge_base_revision: z.string(), bug_id: z.string() }),
  })
  .meta({ id: 'Decision' });

export const decisionQuerySchema = z.strictObject({
  path: pathParam,
  aio: z
    .enum(['native', 'io_uring', 'threads'])
    .optional()
    .describe('the I/O mode the VM uses (QEMU aio=); omitted: assume an exposed one'),
  selftest: z
    .enum(['auto', 'never'])
    .default('auto')
    .describe('auto: use this boot\'s self-test for the filesystem, or run one (shared with concurrent requests); never: only a known one'),
  kernel_release: z
    .string()
    .regex(/^[0-9][0-9A-Za-z._+~^-]{0,199}$/, { message: 'must look like a kernel release (uname -r), e.g. 5.4.0-42-generic' })
    .optional()
    .describe('what-if: judge this kernel release (uname -r) instead of the running one; no self-test applies to it'),
  kernel_version: z
    .string()
    .regex(/^[\x20-\x7e]{1,200}$/, { message: 'must be one line of 1 to 200 printable ASCII characters' })
    .optional()
    .describe('what-if: that kernel\'s uname -v (Debian names its package version there); needs kernel_release'),
  version_signature: z
    .string()
    .regex(/^[\x20-\x7e]{1,200}$/, { message: 'must be one line of 1 to 200 printable ASCII characters' })
    .optional()
    .describe('what-if: that kernel\'s /proc/version_signature (Ubuntu: package version and stable base); needs kernel_release'),
}).refine((q) => q.kernel_release !== undefined || (q.kernel_version === undefined && q.version_signature === undefined), {
  message: 'kernel_version and version_signature describe the what-if kernel: give kernel_release too',
  path: ['kernel_release'],
});

export const decisionResponseSchema = decisionSchema
  .extend({
    decision_id: z.uuid().describe('identifies this decision in the service\'s decision log'),
    duration_ms: z.number().describe('time spent answering, in milliseconds'),
    selftest_ran: z.boolean().describe('a self-test was run (or joined) for this answer'),
  })
  .meta({ id: 'DecisionResponse' });

// ---------------------------------------------------------------- self-test

export const selfTestBodySchema = z.strictObject({
  path: pathParam,
  engine: z.enum(['aio', 'io_uring', 'all']).default('all').describe('submission engine'),
  mode: z.enum(['zero-range', 'alloc', 'all']).default('all').describe('fallocate mode: FALLOC_FL_ZERO_RANGE as QEMU issues it, or mode 0'),
  iterations: z.number().int().min(1).max(100_000).optional().describe('at most this many iterations per engine and mode'),
});

export const selfTestResponseSchema = z
  .object({
    joined: z.boolean().describe('true when a self-test already running on this filesystem was joined (its options apply, not these)'),
    duration_ms: z.number(),
    filesystem: filesystemFactsSchema,
    report: selfTestReportResponseSchema,
  })
  .meta({ id: 'SelfTestResponse' });

// ---------------------------------------------------------------- host, health

export const hostResponseSchema = z
  .object({
    xfsguard_version: z.string(),
    started_at: z.string(),
    uptime_s: z.number(),
    kernel: kernelFactsSchema,
    host: z.object({
      hostname: z.string().nullable(),
      arch: z.string().nullable(),
      platform: z.string().nullable(),
      distro: distroSchema.nullable(),
      note: z.string().nullable(),
    }),
    native_addon: z.object({ available: z.boolean(), error: z.string().nullable() }),
    knowledge_base: z.object({ revision: z.string() }),
    policy: z.object({
      source: z.string(),
      mode: z.string(),
      trust_selftest_min_iterations: z.number(),
      allowed_roots: z.array(z.string()),
      overrides: z.array(z.object({ prefix: z.string(), action: z.enum(['enable', 'disable']), reason: z.string() })),
    }),
    selftests: z.array(
      z.object({
        device: z.string(),
        fs_uuid: z.string().nullable(),
        fs_type: z.string(),
        directory: z.string(),
        outcome: z.enum(['reproduced', 'not_reproduced', 'unsupported']),
        kernel_release: z.string(),
        started_at: z.string(),
        written_at: z.string(),
        age_s: z.number(),
        current_boot: z.boolean().describe('ran on this boot and kernel, so it is used for decisions'),
        running: z.boolean().describe('a self-test is running on this filesystem now'),
      }),
    ),
  })
  .meta({ id: 'Host' });

export const livezResponseSchema = z.object({ status: z.literal('pass') });

export const readyzResponseSchema = z.object({
  status: z.enum(['pass', 'warn', 'fail']),
  checks: z.record(z.string(), z.object({ status: z.enum(['pass', 'warn', 'fail']), output: z.string().optional() })),
});

// ---------------------------------------------------------------- drift guards (compile time)

type Assignable<T, U extends T> = U;
export type DecisionFitsSchema = Assignable<z.input<typeof decisionSchema>, Decision>;
export type FilesystemFitsSchema = Assignable<z.input<typeof filesystemFactsSchema>, FilesystemFacts>;
export type KernelFitsSchema = Assignable<z.input<typeof kernelFactsSchema>, KernelFacts>;
export type EvidenceFitsSchema = Assignable<z.input<typeof selfTestEvidenceSchema>, SelfTestEvidence>;
