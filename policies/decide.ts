// The decision: one pure function from facts (filesystem, kernel, self-test, I/O mode), the operator policy
// and the knowledge base to "enable the workaround for this path?" with reasons. No I/O.
//
// Order of evidence:
//  1. a reproduced self-test (this boot, kernel, filesystem) is proof: affected, whatever the tables say;
//  2. the filesystem: pseudo and local non-XFS ⇒ not_affected; network, FUSE, unresolved overlay and unknown
//     ⇒ unknown (a client cannot see the server's filesystem; unknown is never read as no);
//  3. on XFS: an I/O mode that is not exposed (threads) ⇒ not_affected for that mode; else the knowledge base's
//     kernel status; a clean self-test never makes an unknown kernel fixed under the conservative policy, only
//     under trust-selftest with enough iterations;
//  4. a per-path operator override forces enable/disable last (the verdict stays what the evidence says).
import type { RaceOutcome } from '../native/types.js';
import type { FilesystemFacts, FsClass, IoMode, KernelFacts, SelfTestEvidence } from '../probes/types.js';
import { kernelStatus, parseKernelRelease, type KernelStatus, type ParsedKernelRelease } from './kernel-release.js';
import type { KbBug, KbConfidence, KnowledgeBase } from './knowledge-base-schema.js';
import { XFS_FALLOCATE_BUG_ID } from './knowledge-base.js';
import { matchOverride, type OperatorPolicy, type PolicyOverride } from './operator-policy.js';
import { remediesFor, type HostQemu, type Remedy } from './remedies.js';

export interface DecisionInput {
  filesystem: FilesystemFacts;
  kernel: KernelFacts;
  /** A self-test for THIS boot, kernel and filesystem, or null. */
  selftest: SelfTestEvidence | null;
  /** null = not given ⇒ assume an exposed mode. */
  io_mode: IoMode | null;
  policy: OperatorPolicy;
  knowledge_base: KnowledgeBase;
  /** What-if: judge this release instead of the running one (a self-test then does not apply). */
  kernel_release_override?: string;
  xfsguard_version: string;
  /** The host's QEMU versions (for remedies), or null/absent when not probed. */
  host_qemu?: HostQemu | null;
}

export type Verdict = 'affected' | 'fixed' | 'not_affected' | 'unknown';
export type DecisionConfidence = 'proven' | 'high' | 'medium' | 'low';

export interface ReasonItem {
  code: string;
  detail: string;
}

export interface KernelEvidence extends KernelFacts {
  /** The release that was judged: the running one, or the what-if release. */
  judged_release: string;
  what_if: boolean;
  parsed: ParsedKernelRelease;
  status: KernelStatus;
}

export interface Decision {
  format_version: 1;
  path: string;
  judged_directory: string;
  enable_workaround: boolean;
  /** Settings per platform that keep the disks at this path out of the race (policies/remedies.ts). */
  remedies: Remedy[];
  verdict: Verdict;
  confidence: DecisionConfidence;
  reasons: ReasonItem[];
  evidence: {
    filesystem: FilesystemFacts;
    kernel: KernelEvidence;
    /** The self-test as given (also when it was not used; reasons say why). */
    selftest: SelfTestEvidence | null;
    /** Whether the self-test was used for this decision. */
    selftest_used: boolean;
    io_mode: IoMode | null;
  };
  mitigations: ReasonItem[];
  policy: {
    mode: string;
    override: { prefix: string; action: 'enable' | 'disable'; reason: string } | null;
    source: string;
  };
  provenance: { xfsguard_version: string; knowledge_base_revision: string; bug_id: string };
}

/** Exit codes: 0 workaround not needed; 10 needed, affected; 11 needed, cannot be ruled out. */
export const EXIT_NOT_NEEDED = 0;
export const EXIT_AFFECTED = 10;
export const EXIT_NOT_RULED_OUT = 11;

export function exitCodeFor(decision: Pick<Decision, 'enable_workaround' | 'verdict'>): number {
  if (!decision.enable_workaround) return EXIT_NOT_NEEDED;
  return decision.verdict === 'affected' ? EXIT_AFFECTED : EXIT_NOT_RULED_OUT;
}

export function confidenceOf(c: KbConfidence): Exclude<DecisionConfidence, 'proven'> {
  return c === 'verified' ? 'high' : c === 'inferred' ? 'medium' : 'low';
}

type FsKind = 'xfs' | 'not_xfs' | 'pseudo' | 'network' | 'fuse' | 'local_unknown' | 'unknown';

interface FsAssessment {
  kind: FsKind;
  fs_type: string;
  fs_class: FsClass;
  via_overlay: boolean;
  reasons: ReasonItem[];
}

function classify(fsType: string, fsClass: FsClass): FsKind {
  switch (fsClass) {
    case 'pseudo':
      return 'pseudo';
    case 'network':
      return 'network';
    case 'fuse':
      return 'fuse';
    case 'local':
      if (fsType === 'xfs') return 'xfs';
      return fsType === '' || fsType === 'unknown' ? 'local_unknown' : 'not_xfs';
    default:
      return 'unknown';
  }
}

function assessFilesystem(fs: FilesystemFacts): FsAssessment {
  const reasons: ReasonItem[] = [];
  let fsType = fs.fs_type;
  let fsClass: FsClass = fs.fs_class;
  let viaOverlay = false;
  if (fs.fs_class === 'overlay') {
    if (fs.overlay_upper === null) {
      reasons.push({
        code: 'filesystem_overlay_unresolved',
        detail: `${fs.judged_directory} is on overlayfs and its upper layer could not be found: the filesystem that takes the writes is unknown`,
      });
      return { kind: 'unknown', fs_type: fsType, fs_class: fsClass, via_overlay: true, reasons };
    }
    viaOverlay = true;
    fsType = fs.overlay_upper.fs_type;
    fsClass = fs.overlay_upper.fs_class;
    reasons.push({
      code: 'filesystem_overlay_upper',
      detail: `${fs.judged_directory} is on overlayfs; writes go to the upper layer ${fs.overlay_upper.directory} (${fsType}, ${fsClass}, magic ${fs.overlay_upper.magic_hex}), which is judged`,
    });
    if (fsClass === 'overlay') {
      reasons.push({ code: 'filesystem_overlay_unresolved', detail: 'the upper layer is itself an overlay: not resolved further' });
      return { kind: 'unknown', fs_type: fsType, fs_class: fsClass, via_overlay: true, reasons };
    }
  }
  const kind = classify(fsType, fsClass);
  const where = `${fs.judged_directory}${viaOverlay ? ' (overlay upper layer)' : ''}`;
  switch (kind) {
    case 'xfs':
      reasons.push({ code: 'filesystem_xfs', detail: `${where} is on local XFS (magic ${viaOverlay ? fs.overlay_upper!.magic_hex : fs.magic_hex})` });
      break;
    case 'not_xfs': {
      let extra = '';
      if (fsType === 'zfs') extra = '; note: OpenZFS has a sibling fallocate/write size race (openzfs/zfs#11797), not covered by this answer';
      else if (fsType === 'ext4') extra = '; ext4 only grows the size in fallocate and makes extending DIO synchronous';
      reasons.push({ code: 'filesystem_not_xfs', detail: `${where} is on local ${fsType}, not XFS: this race is XFS-specific${extra}` });
      break;
    }
    case 'pseudo':
      reasons.push({ code: 'filesystem_pseudo', detail: `${where} is on the pseudo filesystem ${fsType}: no VM images live there` });
      break;
    case 'network':
      reasons.push({
        code: 'filesystem_network',
        detail: `${where} is on the network filesystem ${fsType}: the client cannot see the server's filesystem (it may be XFS, e.g. an NFS export or a Gluster brick), so it cannot be ruled out`,
      });
      break;
    case 'fuse':
      reasons.push({
        code: 'filesystem_fuse',
        detail: `${where} is on FUSE (${fsType}): the filesystem behind the daemon (possibly XFS) cannot be seen, so it cannot be ruled out`,
      });
      break;
    case 'local_unknown':
      reasons.push({ code: 'filesystem_unknown', detail: `${where} is on a local filesystem of unknown type (magic ${fs.magic_hex}): XFS cannot be ruled out` });
      break;
    case 'unknown':
      reasons.push({ code: 'filesystem_unknown', detail: `${where}: filesystem class ${fsClass}, type ${fsType} — cannot be ruled out` });
      break;
  }
  return { kind, fs_type: fsType, fs_class: fsClass, via_overlay: viaOverlay, reasons };
}

/** Why a self-test does not belong to this boot/kernel/filesystem, or null when it does. */
function selftestMismatch(ev: SelfTestEvidence, fs: FilesystemFacts, kernel: KernelFacts): string | null {
  const r = ev.report;
  if (r.kernel_release !== kernel.release) return `it ran on kernel ${r.kernel_release}, this is ${kernel.release}`;
  if (r.boot_id !== null && kernel.boot_id !== null && r.boot_id !== kernel.boot_id) return `it ran in boot ${r.boot_id}, this is boot ${kernel.boot_id}`;
  if (r.fs_uuid !== null && fs.fs_uuid !== null) {
    if (r.fs_uuid !== fs.fs_uuid) return `it ran on filesystem ${r.fs_uuid}, this is ${fs.fs_uuid}`;
  } else if (r.device !== fs.device) {
    return `it ran on device ${r.device}, this is ${fs.device}`;
  }
  return null;
}

function kernelReason(k: KernelStatus, p: ParsedKernelRelease): ReasonItem {
  const what = `kernel ${p.release} (stream ${p.stream}${p.upstream_string ? `, upstream ${p.upstream_string}` : ''})`;
  const rule = `rule ${k.rule}: ${k.rule_detail}${k.comparison ? ` [${k.comparison}]` : ''} (${k.confidence})`;
  switch (k.status) {
    case 'fixed': {
      let code = 'kernel_fixed_by_base';
      if (k.rule_status === 'fixed_from') code = 'kernel_fixed_backport';
      else if (p.stream === 'mainline' || p.stream === 'stable') code = 'kernel_fixed_upstream';
      else if (p.stream === 'custom') code = 'kernel_fixed_by_upstream_version_only';
      return { code, detail: `${what} carries the fix per ${rule}` };
    }
    case 'affected':
      return k.rule_status === 'fixed_from'
        ? { code: 'kernel_below_first_fixed', detail: `${what} predates the fix per ${rule}` }
        : { code: 'kernel_no_fix_known', detail: `${what} has the bug and no fix is known, per ${rule}` };
    case 'not_present':
      return { code: 'kernel_bug_not_present', detail: `${what} predates the bug per ${rule}` };
    case 'unknown':
      return { code: 'kernel_unknown', detail: `${what}: fix status unknown per ${rule}` };
  }
}

function selftestSummary(ev: SelfTestEvidence): string {
  const r = ev.report;
  const age = ev.cached ? `, stored result ${Math.round(ev.age_ms / 1000)} s old` : '';
  return `${r.iterations} iterations with ${r.engines.join('+') || 'no engine'} / ${r.modes.join('+') || 'no mode'} on ${r.fs_type} at ${r.directory}${age}`;
}

function pickMitigations(bug: KbBug, kind: FsKind): ReasonItem[] {
  const wanted = new Set<string>(['any']);
  if (kind === 'xfs') wanted.add('xfs');
  else if (kind === 'network' || kind === 'fuse') wanted.add('network');
  else {
    wanted.add('xfs');
    wanted.add('network');
  }
  return bug.mitigations.filter((m) => wanted.has(m.applies_to)).map((m) => ({ code: m.code, detail: m.detail }));
}

export function decide(input: DecisionInput): Decision {
  const { filesystem: fs, kernel, policy, knowledge_base: kb } = input;
  const bug = kb.bugs.find((b) => b.id === XFS_FALLOCATE_BUG_ID);
  if (!bug) throw new Error(`knowledge base ${kb.revision} has no entry for ${XFS_FALLOCATE_BUG_ID}`);

  const reasons: ReasonItem[] = [];
  // a what-if naming the running release is no what-if: the running kernel's facts and self-test apply
  const whatIf = input.kernel_release_override !== undefined && input.kernel_release_override.trim() !== kernel.release;
  const judgedRelease = whatIf ? input.kernel_release_override! : kernel.release;
  // uname -v and the version signature describe the running kernel only
  const parsed = whatIf
    ? parseKernelRelease(judgedRelease)
    : parseKernelRelease(kernel.release, { version: kernel.version, signature: kernel.version_signature });
  const kstat = kernelStatus(parsed, kb, bug.id);
  if (whatIf) {
    reasons.push({ code: 'kernel_what_if', detail: `what-if: judging kernel ${judgedRelease} instead of the running ${kernel.release}` });
  }

  // --- self-test applicability ---
  let selftest: SelfTestEvidence | null = null;
  if (input.selftest !== null) {
    if (whatIf) {
      reasons.push({
        code: 'selftest_ignored_what_if',
        detail: `the self-test ran on the running kernel ${input.selftest.report.kernel_release}, not on ${judgedRelease}: ignored`,
      });
    } else {
      const why = selftestMismatch(input.selftest, fs, kernel);
      if (why !== null) reasons.push({ code: 'selftest_not_applicable', detail: `the self-test given does not apply: ${why}; ignored` });
      else selftest = input.selftest;
    }
  }

  const fsa = assessFilesystem(fs);
  const ioMode = input.io_mode;
  const modeExposed = ioMode === null || !bug.io_modes.not_exposed.includes(ioMode);
  const ioReason = (): ReasonItem =>
    ioMode === null
      ? { code: 'io_mode_assumed_exposed', detail: 'no I/O mode given: assuming an exposed one (aio=native or io_uring)' }
      : modeExposed
        ? { code: 'io_mode_exposed', detail: `aio=${ioMode} submits asynchronous O_DIRECT writes: exposed` }
        : {
            code: 'io_mode_not_exposed',
            detail: `aio=${ioMode} writes synchronously from a thread pool: the size update happens under the inode lock, so this race cannot occur for that mode (${bug.io_modes.confidence})`,
          };

  let verdict: Verdict;
  let confidence: DecisionConfidence;
  const outcome = selftest?.report.outcome ?? null;
  const localFs = fsa.kind === 'xfs' || fsa.kind === 'local_unknown' || fsa.kind === 'not_xfs';

  if (selftest !== null && outcome === 'reproduced') {
    const r = selftest.report;
    reasons.push(...fsa.reasons);
    reasons.push({
      code: 'selftest_reproduced',
      detail: `the self-test reproduced the race ${r.reproductions} time(s) in ${selftestSummary(selftest)}${fsa.kind !== 'xfs' ? ` (on ${fsa.fs_type}, not XFS)` : ''} — evidence beats the tables (${kstat.status} by rule ${kstat.rule})`,
    });
    if (!modeExposed && localFs) {
      reasons.push(ioReason());
      verdict = 'not_affected';
      confidence = confidenceOf(bug.io_modes.confidence);
    } else {
      verdict = 'affected';
      confidence = 'proven';
    }
  } else {
    reasons.push(...fsa.reasons);
    switch (fsa.kind) {
      case 'pseudo':
      case 'not_xfs':
        verdict = 'not_affected';
        confidence = 'high';
        break;
      case 'network':
      case 'fuse':
      case 'unknown':
        verdict = 'unknown';
        confidence = 'low';
        if (ioMode !== null && !modeExposed && fsa.kind !== 'unknown') {
          reasons.push({
            code: 'io_mode_remote_irrelevant',
            detail: `aio=${ioMode} on the client does not decide how the server writes to its filesystem`,
          });
        }
        break;
      case 'local_unknown':
      case 'xfs': {
        reasons.push(kernelReason(kstat, parsed));
        if (selftest !== null) {
          if (outcome === 'not_reproduced') {
            reasons.push({
              code: kstat.status === 'fixed' ? 'selftest_clean_supports_fixed' : 'selftest_clean_not_proof',
              detail: `the self-test did not reproduce the race in ${selftestSummary(selftest)}; a race not observed is not proof of a fix`,
            });
          } else {
            reasons.push({
              code: 'selftest_unsupported',
              detail: `the self-test could not run here (${selftest.report.reason ?? 'no engine/mode supported'}): no evidence either way`,
            });
          }
        } else if (!whatIf && input.selftest === null) {
          reasons.push({ code: 'selftest_none', detail: 'no self-test result for this boot, kernel and filesystem' });
        }
        reasons.push(ioReason());
        if (!modeExposed) {
          verdict = 'not_affected';
          confidence = confidenceOf(bug.io_modes.confidence);
          break;
        }
        if (fsa.kind === 'local_unknown') {
          verdict = 'unknown';
          confidence = 'low';
          break;
        }
        switch (kstat.status) {
          case 'affected':
            verdict = 'affected';
            confidence = confidenceOf(kstat.confidence);
            break;
          case 'fixed':
            verdict = 'fixed';
            confidence = confidenceOf(kstat.confidence);
            break;
          case 'not_present':
            verdict = 'not_affected';
            confidence = confidenceOf(kstat.confidence);
            break;
          case 'unknown': {
            const cleanRuns = selftest !== null && outcome === 'not_reproduced' ? selftest.report.iterations : null;
            const clean = cleanRuns !== null;
            const enough = cleanRuns !== null && cleanRuns >= policy.trust_selftest_min_iterations;
            if (policy.mode === 'trust-selftest' && enough) {
              verdict = 'fixed';
              confidence = 'low';
              reasons.push({
                code: 'selftest_trusted',
                detail: `policy trust-selftest: ${cleanRuns} clean iterations on this boot and filesystem (≥ ${policy.trust_selftest_min_iterations}) are taken as fixed`,
              });
            } else {
              verdict = 'unknown';
              confidence = 'low';
              if (policy.mode === 'trust-selftest' && clean) {
                reasons.push({
                  code: 'selftest_too_few_iterations',
                  detail: `policy trust-selftest needs ≥ ${policy.trust_selftest_min_iterations} clean iterations; the self-test ran ${cleanRuns}`,
                });
              } else if (clean) {
                reasons.push({
                  code: 'policy_conservative',
                  detail: 'policy conservative: a clean self-test alone does not make a kernel of unknown status fixed',
                });
              }
            }
            break;
          }
        }
        break;
      }
    }
  }

  let enable = verdict === 'affected' || verdict === 'unknown';
  const mitigations = enable ? pickMitigations(bug, fsa.kind) : [];

  // --- operator override: longest prefix of the requested path or the judged directory ---
  const override: PolicyOverride | null = matchOverride([fs.requested_path, fs.judged_directory], policy);
  if (override !== null) {
    enable = override.action === 'enable';
    reasons.push({
      code: override.action === 'enable' ? 'policy_override_enable' : 'policy_override_disable',
      detail: `operator override for ${override.prefix} (${policy.source}): ${override.action} — ${override.reason}`,
    });
  }

  return {
    format_version: 1,
    path: fs.requested_path,
    judged_directory: fs.judged_directory,
    enable_workaround: enable,
    remedies: remediesFor({
      enable_workaround: enable,
      fs_class: fsa.fs_class,
      fs_type: fsa.fs_type,
      io_mode: ioMode,
      below_range_outcome: (selftest?.report as { below_range_outcome?: RaceOutcome | null } | undefined)?.below_range_outcome ?? null,
      host_qemu: input.host_qemu ?? null,
    }),
    verdict,
    confidence,
    reasons,
    evidence: {
      filesystem: fs,
      kernel: { ...kernel, judged_release: judgedRelease, what_if: whatIf, parsed, status: kstat },
      selftest: input.selftest,
      selftest_used: selftest !== null,
      io_mode: ioMode,
    },
    mitigations,
    policy: {
      mode: policy.mode,
      override: override === null ? null : { prefix: override.prefix, action: override.action, reason: override.reason },
      source: policy.source,
    },
    provenance: { xfsguard_version: input.xfsguard_version, knowledge_base_revision: kb.revision, bug_id: bug.id },
  };
}
