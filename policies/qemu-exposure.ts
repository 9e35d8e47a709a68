// Is the QEMU that will open the image exposed to the XFS fallocate vs AIO+DIO race? Pure: version
// facts in, a judgement out. What decides it (../shared/reference/bug.md §4):
//   - c8bb23cbdbe32f "qcow2: skip writing zero buffers to empty COW areas" (first in QEMU 4.1.0) made
//     qcow2 zero newly allocated clusters with a write-zeroes = fallocate beyond EOF: the trigger;
//   - 292d06b925b2 "block/file-posix: Let post-EOF fallocate serialize" (QEMU 4.2.0, backported to
//     4.1.1) serialises such write-zeroes against every later request: QEMU's workaround.
// So 4.1.0 is exposed, older releases lack the trigger, 4.1.1 and later serialise. Development
// snapshots between releases (x.y.50 and up) are judged by what is known of them, else unknown.
// semver's functions one by one: its index loads every function and range class (issue 11, start-up)
import coerce from 'semver/functions/coerce.js';
import gte from 'semver/functions/gte.js';
import type { Decision } from './decide-types.js';

export type QemuExposure = 'exposed' | 'workaround' | 'no_trigger' | 'unknown';

export interface QemuExposureJudgement {
  exposure: QemuExposure;
  /** verified: read from the release history; inferred: from vendor packaging or release schedules. */
  confidence: 'verified' | 'inferred';
  detail: string;
}

/** A QEMU binary as the probe found it (probes/qemu.ts): only what the policy needs. */
export interface QemuVersionFacts {
  path: string;
  /** x.y.z from `--version`, or null when it could not be read. */
  version: string | null;
  /** The parenthesised build/package string after the version (e.g. "Debian 1:7.2+dfsg-7+deb12u18"), or null. */
  build: string | null;
}

export interface QemuBinaryExposure extends QemuExposureJudgement {
  path: string;
  version: string | null;
}

/** Vendor builds of 4.1.0 known to carry the workaround's backport (590cff8230, d9b88f7e0d, 7db05c8a73). */
const BACKPORTING_BUILDS: { pattern: RegExp; detail: string }[] = [
  { pattern: /\boe1\b|openeuler/i, detail: "openEuler's qemu 4.1.0 package carries the workaround's backport (its patches 0086-0088)" },
];

const TRIGGER = 'c8bb23cbdbe32f (qcow2 zeroes new clusters with a write-zeroes beyond EOF)';
const WORKAROUND = '292d06b925b2 (post-EOF write-zeroes made serialising)';

/** Judges one QEMU version (and its build string, for known vendor backports). */
export function judgeQemuVersion(version: string | null, build: string | null = null): QemuExposureJudgement {
  const v = version === null ? null : coerce(version, { loose: true });
  if (v === null) return { exposure: 'unknown', confidence: 'verified', detail: 'the QEMU version could not be read' };
  const at = (x: string): boolean => gte(v, x);
  if (!at('4.0.50')) {
    return { exposure: 'no_trigger', confidence: 'verified', detail: `QEMU ${v.version} predates ${TRIGGER}, first in 4.1.0: qcow2 does not zero new clusters with post-EOF fallocate` };
  }
  if (!at('4.0.90')) return { exposure: 'unknown', confidence: 'inferred', detail: `QEMU ${v.version} is a 4.1 development snapshot: whether it has ${TRIGGER} is not known` };
  if (!at('4.1.1')) {
    const backport = BACKPORTING_BUILDS.find((b) => build !== null && b.pattern.test(build));
    if (backport !== undefined) return { exposure: 'workaround', confidence: 'inferred', detail: `QEMU ${v.version} (${build}): ${backport.detail}` };
    return {
      exposure: 'exposed',
      confidence: at('4.1.0') ? 'verified' : 'inferred',
      detail: `QEMU ${v.version} has ${TRIGGER} and not ${WORKAROUND}: its qcow2 images on an affected XFS with aio=native/io_uring and cache.direct=on lose data; upgrade to ≥ 4.1.1`,
    };
  }
  if (at('4.1.50') && !at('4.1.90')) {
    return { exposure: 'unknown', confidence: 'inferred', detail: `QEMU ${v.version} is a 4.2 development snapshot: whether it has ${WORKAROUND} (pulled before 4.2.0-rc0) is not known` };
  }
  return {
    exposure: 'workaround',
    confidence: 'verified',
    detail: `QEMU ${v.version} has ${WORKAROUND} (4.1.1, 4.2.0 and later), unless the build removed it`,
  };
}

const RANK: Record<QemuExposure, number> = { exposed: 3, unknown: 2, workaround: 1, no_trigger: 0 };

export interface QemuAssessment {
  /** The worst exposure over the binaries found; null when no QEMU was found. */
  exposure: QemuExposure | null;
  binaries: QemuBinaryExposure[];
}

/** Judges every QEMU binary found; the host's exposure is the worst of them. */
export function assessQemu(binaries: readonly QemuVersionFacts[]): QemuAssessment {
  const judged = binaries.map((b) => ({ path: b.path, version: b.version, ...judgeQemuVersion(b.version, b.build) }));
  const worst = judged.reduce<QemuExposure | null>((w, b) => (w === null || RANK[b.exposure] > RANK[w] ? b.exposure : w), null);
  return { exposure: worst, binaries: judged };
}

export interface QemuWarning {
  code: 'exposed_qemu_on_affected_kernel';
  detail: string;
}

/**
 * The case an operator must hear about first: the workaround is needed here (an affected or
 * unknown kernel for this I/O mode) and a QEMU on this host lacks it. Null otherwise.
 */
export function qemuWarning(enableWorkaround: boolean, qemu: QemuAssessment | null): QemuWarning | null {
  if (!enableWorkaround || qemu === null) return null;
  const exposed = qemu.binaries.filter((b) => b.exposure === 'exposed');
  if (exposed.length === 0) return null;
  const list = exposed.map((b) => `${b.path} (${b.version ?? '?'})`).join(', ');
  return {
    code: 'exposed_qemu_on_affected_kernel',
    detail: `this kernel needs QEMU's workaround here, and ${list} lacks it (QEMU 4.1.0: the qcow2 zero-write trigger without the serialisation): qcow2 images opened with cache.direct=on and aio=native/io_uring will lose data — upgrade QEMU to ≥ 4.1.1 or use aio=threads now`,
  };
}

/** What a decision's evidence says about the host's QEMU. */
export interface QemuEvidence extends QemuAssessment {
  /** What the probe could not do (binaries left out, versions unread), if anything. */
  note: string | null;
}

/** A decision whose evidence carries the host's QEMU. */
export type DecisionWithQemu = Decision & { evidence: Decision['evidence'] & { qemu: QemuEvidence } };

/**
 * Adds the host's QEMU to a decision's evidence and, when the workaround is needed here and a QEMU
 * lacks it, puts that warning first among the reasons: it is what the operator must hear first.
 */
export function withQemuEvidence(decision: Decision, binaries: readonly QemuVersionFacts[], note: string | null = null): DecisionWithQemu {
  const assessment = assessQemu(binaries);
  const warning = qemuWarning(decision.enable_workaround, assessment);
  return {
    ...decision,
    reasons: warning === null ? decision.reasons : [warning, ...decision.reasons],
    evidence: { ...decision.evidence, qemu: { ...assessment, note } },
  };
}

/** For people: the headline warning (or null) and one line per QEMU binary, from a decision's evidence. */
export function describeQemu(decision: Decision): { warning: string | null; lines: string[] } {
  const qemu = (decision.evidence as Partial<DecisionWithQemu['evidence']>).qemu;
  if (qemu === undefined) return { warning: null, lines: [] };
  const warning = decision.reasons.find((r) => r.code === 'exposed_qemu_on_affected_kernel')?.detail ?? null;
  const lines = qemu.binaries.map((b) => `${b.path} ${b.version ?? '(version unknown)'}: ${b.exposure} — ${b.detail}`);
  if (qemu.binaries.length === 0) lines.push('no QEMU binary found (PATH, /usr/libexec, /usr/bin, /usr/local/bin)');
  if (qemu.note !== null) lines.push(`note: ${qemu.note}`);
  return { warning: warning === null ? null : `WARNING: ${warning}`, lines };
}
