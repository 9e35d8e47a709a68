// zod schema of the knowledge base (policies/knowledge-base.ts). The knowledge base is data: one entry per
// known bug, with per-kernel-stream rules, each carrying its source and how sure it is.
import { z } from 'zod';
import { compareUpstream, parseUpstream } from './vercmp.js';

/** How sure a fact is; matches bug.md's legend: [V] verified, [I] inferred, [M] memory/belief. */
export const CONFIDENCES = ['verified', 'inferred', 'belief'] as const;
export type KbConfidence = (typeof CONFIDENCES)[number];

/** Kernel streams parseKernelRelease() recognises. */
export const KERNEL_STREAMS = [
  'mainline',
  'stable',
  'el7',
  'el8',
  'el9',
  'el10',
  'ubuntu',
  'debian',
  'suse',
  'fedora',
  'elrepo',
  'custom',
  'unknown',
] as const;
export type KernelStream = (typeof KERNEL_STREAMS)[number];

export const IO_MODES = ['native', 'io_uring', 'threads', 'buffered'] as const;

/**
 * What a stream rule says about the kernels it matches:
 * - fixed_from:   fixed when the compared version ≥ first_fixed, affected below it;
 * - fixed:        every matching kernel carries the fix (e.g. inherited from an upstream base ≥ 5.5);
 * - no_fix_known: the bug exists there and no fix is known ⇒ affected (at the rule's confidence);
 * - unknown:      nothing is known ⇒ unknown (never read as fixed or affected);
 * - not_present:  the bug does not exist there (e.g. before it was introduced).
 */
export const RULE_STATUSES = ['fixed_from', 'fixed', 'no_fix_known', 'unknown', 'not_present'] as const;
export type KbRuleStatus = (typeof RULE_STATUSES)[number];

/**
 * Which version of the running kernel a rule compares (first_fixed, version_from, version_below):
 * upstream x.y.z; rpm version-release; dpkg package version; abi = Ubuntu's ABI number (5.4.0-55.61 → 55),
 * from the package version when known (/proc/version_signature, uname -v), else from the release string.
 */
export const COMPARATORS = ['upstream', 'rpm', 'dpkg', 'abi'] as const;
export type KbComparator = (typeof COMPARATORS)[number];

/** Kernels recognised as carrying a real kernel.org patch level although their stream is `custom`. */
export const KERNEL_VENDORS = ['ubuntu-mainline-ppa', 'proxmox', 'arch', 'amazon-linux-2', 'chromeos', 'oracle-uek'] as const;
export type KernelVendor = (typeof KERNEL_VENDORS)[number];

/** Extra conditions for a rule to match (all that are given must hold). */
export const RuleWhenSchema = z
  .object({
    /** the release's flavour is one of these (Ubuntu: generic, aws, …) */
    flavours: z.array(nonEmptyString()).min(1).optional(),
    /** the release was recognised as one of these vendors' builds */
    vendors: z.array(z.enum(KERNEL_VENDORS)).min(1).optional(),
    /** the exact upstream patch level is known (Debian/Ubuntu: from the package version) */
    exact_upstream: z.boolean().optional(),
  })
  .strict();

const upstreamVersion = z.string().refine((s) => parseUpstream(s) !== null, {
  message: 'must be an upstream kernel version like 5.4.69 or 5.5.0-rc1',
});

function nonEmptyString() {
  return z.string().min(1, { message: 'must not be empty' });
}
const nonEmpty = nonEmptyString();

export const SourceSchema = z
  .object({
    /** Short citation: repo+path, Message-ID, URL, or "bug.md §N". */
    ref: nonEmpty,
    confidence: z.enum(CONFIDENCES),
    note: z.string().optional(),
  })
  .strict();

export const StreamRuleSchema = z
  .object({
    /** Stable key of the rule, quoted in every answer (e.g. "upstream-5.4.y"). */
    key: nonEmpty,
    streams: z.array(z.enum(KERNEL_STREAMS)).min(1),
    /** The rule matches upstream (base) versions in [upstream_from, upstream_below). */
    upstream_from: upstreamVersion.optional(),
    upstream_below: upstreamVersion.optional(),
    /** …and, when given, whose version by `comparator` is in [version_from, version_below). */
    version_from: nonEmpty.optional(),
    version_below: nonEmpty.optional(),
    when: RuleWhenSchema.optional(),
    status: z.enum(RULE_STATUSES),
    comparator: z.enum(COMPARATORS).optional(),
    first_fixed: z.string().optional(),
    /** true when the rule needs the exact upstream patch level (Debian/Ubuntu: from the package version). */
    needs_exact_upstream: z.boolean().optional(),
    confidence: z.enum(CONFIDENCES),
    /** Human statement of the rule, with its reasoning. */
    detail: nonEmpty,
    sources: z.array(SourceSchema).min(1),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.status === 'fixed_from') {
      if (r.first_fixed === undefined) {
        ctx.addIssue({ code: 'custom', path: ['first_fixed'], message: 'expected string (required when status is fixed_from)' });
      }
      if (r.comparator === undefined) {
        ctx.addIssue({ code: 'custom', path: ['comparator'], message: 'required when status is fixed_from' });
      }
      if (r.comparator === 'upstream' && r.first_fixed !== undefined && parseUpstream(r.first_fixed) === null) {
        ctx.addIssue({ code: 'custom', path: ['first_fixed'], message: 'must be an upstream kernel version' });
      }
    }
    if ((r.version_from !== undefined || r.version_below !== undefined) && r.comparator === undefined) {
      ctx.addIssue({ code: 'custom', path: ['comparator'], message: 'required when version_from or version_below is given' });
    }
    if (r.upstream_from !== undefined && r.upstream_below !== undefined && parseUpstream(r.upstream_from) && parseUpstream(r.upstream_below)) {
      if (compareUpstream(r.upstream_from, r.upstream_below) >= 0) {
        ctx.addIssue({ code: 'custom', path: ['upstream_below'], message: 'must be greater than upstream_from' });
      }
    }
  });

export const MitigationSchema = z
  .object({
    code: z.string().regex(/^[a-z][a-z0-9_]*$/, { message: 'must be snake_case' }),
    detail: nonEmpty,
    /** When it applies: to xfs only, or to any filesystem the answer could not rule out. */
    applies_to: z.enum(['xfs', 'any', 'network']),
    sources: z.array(SourceSchema).min(1),
  })
  .strict();

export const BugSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { message: 'must be lowercase kebab-case' }),
    title: nonEmpty,
    summary: nonEmpty,
    fix: z
      .object({
        commit: z.string().regex(/^[0-9a-f]{12,40}$/, { message: 'must be a hex commit id' }),
        title: nonEmpty,
        mainline: upstreamVersion,
        sources: z.array(SourceSchema).min(1),
      })
      .strict(),
    filesystems: z.array(nonEmpty).min(1),
    io_modes: z
      .object({
        exposed: z.array(z.enum(IO_MODES)),
        not_exposed: z.array(z.enum(IO_MODES)),
        detail: nonEmpty,
        confidence: z.enum(CONFIDENCES),
        sources: z.array(SourceSchema).min(1),
      })
      .strict(),
    /** Kernels where the bug exists at all. */
    introduced: z
      .object({
        upstream: upstreamVersion,
        detail: nonEmpty,
        confidence: z.enum(CONFIDENCES),
        sources: z.array(SourceSchema).min(1),
      })
      .strict(),
    /** Ordered: the first rule whose streams and upstream range match decides. */
    streams: z.array(StreamRuleSchema).min(1),
    mitigations: z.array(MitigationSchema),
    sources: z.array(SourceSchema).min(1),
  })
  .strict()
  .superRefine((b, ctx) => {
    const seen = new Set<string>();
    b.streams.forEach((r, i) => {
      if (seen.has(r.key)) ctx.addIssue({ code: 'custom', path: ['streams', i, 'key'], message: `duplicate rule key ${r.key}` });
      seen.add(r.key);
    });
  });

export const KnowledgeBaseSchema = z
  .object({
    format_version: z.literal(1),
    /** Appears in every answer (provenance.knowledge_base_revision). */
    revision: z.string().regex(/^\d{4}-\d{2}-\d{2}\.\d+$/, { message: 'must look like 2026-11-24.1' }),
    bugs: z.array(BugSchema).min(1),
  })
  .strict()
  .superRefine((kb, ctx) => {
    const seen = new Set<string>();
    kb.bugs.forEach((b, i) => {
      if (seen.has(b.id)) ctx.addIssue({ code: 'custom', path: ['bugs', i, 'id'], message: `duplicate bug id ${b.id}` });
      seen.add(b.id);
    });
  });

export type KnowledgeBase = z.infer<typeof KnowledgeBaseSchema>;
export type KbBug = z.infer<typeof BugSchema>;
export type KbStreamRule = z.infer<typeof StreamRuleSchema>;
export type KbSource = z.infer<typeof SourceSchema>;
export type KbMitigation = z.infer<typeof MitigationSchema>;
/** The input shape (what a data file contains). */
export type KnowledgeBaseInput = z.input<typeof KnowledgeBaseSchema>;

export { KnowledgeBaseError } from './knowledge-base-error.js';
export { formatIssueMessage, formatIssuePath } from './issue-format.js';
