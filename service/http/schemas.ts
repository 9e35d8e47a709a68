// zod schemas for every request and response of the HTTP API; the OpenAPI document is generated
// from them. Response schemas mirror the types the judging flow produces (compile-time checked
// below), so the decision served is the same document as `xfsguard check --json`.
import { z } from 'zod';
import type { Remedy } from '../../policies/remedies.js';
import type { IdentifiedDecision } from '../judge.js';
import { KERNEL_STREAMS, KERNEL_VENDORS, RULE_STATUSES, CONFIDENCES } from '../../policies/knowledge-base-schema.js';
import { selfTestReportSchema } from '../../probes/selftest-schema.js';
import type { FilesystemFacts, KernelFacts, SelfTestEvidence } from '../../probes/types.js';

// ---------------------------------------------------------------- common

/** Every error is an RFC 9457 problem document (application/problem+json) that keeps `code` and `message`. */
export const errorSchema = z
  .object({
    type: z.string().describe('a URI naming the kind of problem: urn:xfsguard:problem:CODE'),
    title: z.string().describe('the HTTP status phrase, e.g. Forbidden'),
    status: z.number().int().describe('the HTTP status code'),
    detail: z.string().describe('what was wrong, for a human'),
    instance: z.string().optional().describe('the request path'),
    code: z.string().describe('machine-readable error code, e.g. path_relative, path_not_allowed, invalid_query'),
    message: z.string().describe('the same as detail (kept for clients of the earlier {code, message} errors)'),
    request_id: z.string().optional().describe('the request id in the service log and the X-Request-Id header (5xx only)'),
  })
  .meta({ id: 'Problem', description: 'An RFC 9457 problem document with the xfsguard error code' });

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const HEALTH_CONTENT_TYPE = 'application/health+json';

/** An OpenAPI response object: a description and one content type with its schema. */
export function responseOf<T extends z.ZodType>(description: string, schema: T, contentType = 'application/json') {
  return { description, content: { [contentType]: { schema } } };
}

const PROBLEMS: Record<number, string> = {
  400: 'Bad request: a malformed URL, query or body (code names the field)',
  403: 'The path is outside the policy\'s allowed roots, or not readable',
  413: 'The request body is larger than the limit',
  415: 'The body is not application/json',
  422: 'The path cannot be judged (e.g. a component is not a directory)',
  429: 'Too many self-test requests: retry after the time given',
  500: 'Internal error: request_id names it in the service log',
  503: 'Not ready (starting or shutting down), or filesystem probes stalled on a hung mount',
  504: 'The filesystem of the path did not answer in time (a hung FUSE or network mount?)',
};

/** The problem responses of a route, by status. */
export function problems<S extends keyof typeof PROBLEMS>(...statuses: S[]) {
  return Object.fromEntries(statuses.map((s) => [s, responseOf(PROBLEMS[s], errorSchema, PROBLEM_CONTENT_TYPE)])) as Record<S, ReturnType<typeof responseOf<typeof errorSchema>>>;
}

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
    inode: z.string().optional().describe('inode number of the judged directory (when probed)'),
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
  vendor: z.enum(KERNEL_VENDORS).nullable().describe('the kernel\'s vendor when the release names one'),
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

// ---------------------------------------------------------------- host QEMU

const qemuExposureSchema = z.enum(['exposed', 'workaround', 'no_trigger', 'unknown']);
const qemuBinaryExposureSchema = z.object({
  path: z.string(),
  version: z.string().nullable(),
  exposure: qemuExposureSchema.describe('exposed: has the qcow2 zero-write trigger without the serialisation (4.1.0); workaround: serialises (≥ 4.1.1); no_trigger: < 4.1'),
  confidence: z.enum(['verified', 'inferred']),
  detail: z.string(),
});
const qemuAssessmentShape = {
  exposure: qemuExposureSchema.nullable().describe('the worst over the QEMU binaries found; null when none was found'),
  binaries: z.array(qemuBinaryExposureSchema),
};
export const qemuEvidenceSchema = z.object({ ...qemuAssessmentShape, note: z.string().nullable() }).meta({ id: 'QemuEvidence' });

// ---------------------------------------------------------------- decision

const reasonSchema = z.object({ code: z.string(), detail: z.string() });

export const remedySchema = z
  .object({
    id: z.string().describe('stable id, e.g. libvirt_io_threads'),
    platform: z.enum(['libvirt', 'kubevirt', 'proxmox', 'openstack_nova', 'qemu']),
    kind: z.enum(['io_threads', 'cache_writeback', 'qemu_workaround']),
    scope: z.enum(['disk', 'host']).describe('disk: per VM disk at this path; host: every VM of the host'),
    setting: z.object({ location: z.string(), key: z.string(), value: z.string() }).describe('what to set, and where'),
    snippet: z.string().describe('a ready-to-paste example'),
    sufficient: z.boolean().describe('whether this remedy alone keeps the disks out of the race on this host'),
    need: z.enum(['needed', 'unnecessary', 'unknown']).describe('whether it is needed, given the host\'s QEMU and the self-test'),
    qemu_note: z.string().describe('which QEMU version makes it unnecessary or insufficient, and why'),
    detail: z.string(),
  })
  .meta({ id: 'Remedy', description: 'A setting an orchestrator can apply so that VMs are not exposed to the race' });

export const decisionSchema = z
  .object({
    decision_id: z.uuid().describe('identifies this answer: the same in the log line, the X-Request-Id header and the boot-check file'),
    decided_at: z.iso.datetime().describe('when the decision was made (RFC 3339, UTC)'),
    format_version: z.literal(1),
    path: z.string(),
    judged_directory: z.string(),
    enable_workaround: z.boolean().describe('the answer: enable QEMU\'s workaround for images at this path'),
    remedies: z.array(remedySchema).describe('settings per platform that keep the disks at this path out of the race (empty when not needed)'),
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
      qemu: qemuEvidenceSchema.optional().describe('the QEMU binaries on this host and whether each is exposed'),
    }),
    mitigations: z.array(reasonSchema),
    policy: z.object({
      mode: z.string(),
      override: z.object({ prefix: z.string(), action: z.enum(['enable', 'disable']), reason: z.string() }).nullable(),
      source: z.string(),
    }),
    provenance: z.object({ xfsguard_version: z.string(), knowledge_base_revision: z.string(), bug_id: z.string() }),
  });

export const decisionQuerySchema = z.strictObject({
  path: pathParam,
  aio: z
    .enum(['native', 'io_uring', 'threads'])
    .optional()
    .describe('the I/O mode the VM uses (QEMU aio=); omitted: assume an exposed one'),
  selftest: z
    .enum(['auto', 'never'])
    .default('never')
    .describe('never (default): only a self-test already known for this boot and filesystem — a GET starts none (POST /v1/selftest does); auto: run one when none is known (shared with concurrent requests)'),
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
    duration_ms: z.number().describe('time spent answering, in milliseconds'),
    selftest_ran: z.boolean().describe('a self-test was run (or joined) for this answer'),
  })
  .meta({ id: 'Decision', description: 'The decision for a path: the document of `xfsguard check --json`, plus duration_ms and selftest_ran' });

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
    qemu: z
      .object({
        searched: z.array(z.string()),
        duration_ms: z.number(),
        note: z.string().nullable(),
        ...qemuAssessmentShape,
        versions: z.array(
          z.object({
            path: z.string(),
            real_path: z.string(),
            role: z.enum(['system', 'kvm', 'img']),
            version: z.string().nullable(),
            build: z.string().nullable(),
            version_line: z.string().nullable(),
            error: z.string().nullable(),
          }),
        ),
      })
      .nullable()
      .describe('QEMU binaries found at start-up (PATH, /usr/libexec, /usr/bin, /usr/local/bin), their versions and exposure'),
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

/** /livez and /readyz answer in one format (application/health+json, draft-inadarei-api-health-check). */
export const healthSchema = z
  .object({
    status: z.enum(['pass', 'warn', 'fail']),
    version: z.string().describe('the xfsguard version'),
    checks: z.record(z.string(), z.object({ status: z.enum(['pass', 'warn', 'fail']), output: z.string().optional() })),
  })
  .meta({ id: 'Health', description: 'Health in the application/health+json format: overall status and one entry per check' });
export const livezResponseSchema = healthSchema;
export const readyzResponseSchema = healthSchema;

// ---------------------------------------------------------------- drift guards (compile time)

type Assignable<T, U extends T> = U;
export type DecisionFitsSchema = Assignable<z.input<typeof decisionSchema>, IdentifiedDecision>;
export type RemedyFitsSchema = Assignable<z.input<typeof remedySchema>, Remedy>;
export type FilesystemFitsSchema = Assignable<z.input<typeof filesystemFactsSchema>, FilesystemFacts>;
export type KernelFitsSchema = Assignable<z.input<typeof kernelFactsSchema>, KernelFacts>;
export type EvidenceFitsSchema = Assignable<z.input<typeof selfTestEvidenceSchema>, SelfTestEvidence>;
