// One judgement of a path, shared by the CLI, the HTTP service and the boot check: probe the
// filesystem and kernel, find or run the self-test, and hand the facts to the pure decision.
import { randomUUID } from '../probes/random-bytes.js';
import { decide } from '../policies/decide.js';
import type { Decision, DecisionInput } from '../policies/decide.js';
import type { KnowledgeBase } from '../policies/knowledge-base-schema.js';
import type { OperatorPolicy } from '../policies/operator-policy.js';
import { withQemuEvidence } from '../policies/qemu-exposure.js';
import { probeFilesystem } from '../probes/filesystem.js';
import { probeKernel } from '../probes/kernel.js';
import type { QemuFacts } from '../probes/qemu.js';
import type { SelfTestCache } from '../probes/selftest-cache.js';
import { runSelfTest, type SelfTestOptions, type SelfTestSingleFlight } from '../probes/selftest.js';
import type { FilesystemFacts, IoMode, KernelFacts, SelfTestEvidence, SelfTestReport } from '../probes/types.js';
import type { DecisionMemo } from './decision-memo.js';
import { XFSGUARD_VERSION } from './package-info.js';

export type SelftestPolicy = 'auto' | 'always' | 'never';

export interface JudgeContext {
  knowledgeBase: KnowledgeBase;
  policy: OperatorPolicy;
  cache: SelfTestCache;
  /** Probed once by a long-running service; probed per call otherwise. */
  kernel?: KernelFacts;
  singleFlight?: SelfTestSingleFlight;
  /** Told when a self-test was run and stored (the service refreshes its in-memory state). */
  onSelfTest?: (report: SelfTestReport) => void;
  warn?: (message: string) => void;
  /** Where a self-test may run (the service: only inside the allowed roots); default anywhere asked. */
  selfTestAllowed?: (fs: FilesystemFacts) => boolean;
  /** How to probe a path's filesystem: a long-running service reuses recent facts; one-shot commands probe afresh. */
  probeFilesystem?: (absolute: string) => Promise<FilesystemFacts>;
  /** The host's QEMU binaries (the service probes them once at start-up): when given, they are evidence. */
  qemu?: QemuFacts | Promise<QemuFacts>;
  /** A long-running service remembers decisions: computed once per change of the facts, not per request. */
  memo?: DecisionMemo;
}

export interface JudgeRequest {
  /** Absolute path. */
  path: string;
  io_mode: IoMode | null;
  selftest: SelftestPolicy;
  kernel_release_override?: string;
  /** What-if identity of that release: its uname -v and /proc/version_signature (only with kernel_release_override). */
  kernel_version_override?: string;
  version_signature_override?: string;
  selftestOptions?: SelfTestOptions;
  /** A self-test already at hand for this filesystem (the service keeps them in memory). */
  knownSelfTest?: SelfTestEvidence | null;
  /** The answer's id when the caller has one already (the service: the request id); default a new UUID. */
  decision_id?: string;
}

/**
 * A decision as every edge hands it out: one id and time per answer, the same in `check --json`,
 * the HTTP response (and its X-Request-Id), the decision log line and the boot-check file.
 */
export type IdentifiedDecision = { decision_id: string; decided_at: string } & Decision;

export interface Judgement {
  decision: IdentifiedDecision;
  filesystem: FilesystemFacts;
  /** A self-test ran (or was joined) for this answer. */
  selftest_ran: boolean;
  /** With a memo: the remembered decision this one was made from (the same object while the facts stay the same). */
  basis?: Decision;
}

/** Is the filesystem one where the race can exist (XFS itself, or overlay whose upper layer is XFS)? */
export function selfTestApplies(fs: FilesystemFacts): boolean {
  return fs.fs_type === 'xfs' || (fs.fs_class === 'overlay' && fs.overlay_upper?.fs_type === 'xfs');
}

/** Runs a self-test (joining one already running for the filesystem) and stores the result. */
export async function selfTestAndStore(fs: FilesystemFacts, kernel: KernelFacts, ctx: JudgeContext, options: SelfTestOptions = {}): Promise<SelfTestReport> {
  const start = async () => {
    const report = await runSelfTest(fs, kernel, options);
    // A run cut short (shutdown, cancellation) proves nothing unless it already reproduced.
    if (report.outcome !== 'reproduced' && report.runs.some((r) => r.cancelled)) return report;
    try {
      await ctx.cache.write(report);
    } catch (err) {
      (ctx.warn ?? (() => undefined))(`could not store the self-test result in ${ctx.cache.dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    ctx.onSelfTest?.(report);
    return report;
  };
  if (ctx.singleFlight === undefined) return start();
  return ctx.singleFlight.run(fs, start).report;
}

export async function judge(req: JudgeRequest, ctx: JudgeContext): Promise<Judgement> {
  const filesystem = await (ctx.probeFilesystem ?? probeFilesystem)(req.path);
  const kernel = ctx.kernel ?? (await probeKernel());
  let selftest: SelfTestEvidence | null = null;
  let ran = false;
  const applies = selfTestApplies(filesystem) && req.kernel_release_override === undefined;
  if (applies && req.selftest !== 'always') {
    const key = { boot_id: kernel.boot_id, kernel_release: kernel.release, device: filesystem.device, fs_uuid: filesystem.fs_uuid };
    selftest = req.knownSelfTest !== undefined ? req.knownSelfTest : await ctx.cache.read(key);
  }
  const wanted = req.selftest === 'always' || (req.selftest === 'auto' && selftest === null);
  if (applies && wanted && req.io_mode !== 'threads' && (ctx.selfTestAllowed?.(filesystem) ?? true)) {
    // On overlay the test runs through the overlay, as QEMU would open the image, onto its XFS upper layer.
    const report = await selfTestAndStore(filesystem, kernel, ctx, req.selftestOptions);
    selftest = { report, cached: false, age_ms: 0 };
    ran = true;
  }
  // Not awaited when it is a value already (a turn less per decision).
  const qemu = ctx.qemu instanceof Promise ? await ctx.qemu : ctx.qemu;
  const { decision: decided, basis } = decisionFor({ filesystem, kernel, selftest, io_mode: req.io_mode, policy: ctx.policy, knowledge_base: ctx.knowledgeBase, xfsguard_version: XFSGUARD_VERSION }, req, ctx.memo, qemu);
  const decision: IdentifiedDecision = { decision_id: req.decision_id ?? randomUUID(), decided_at: new Date().toISOString(), ...decided };
  return basis === undefined ? { decision, filesystem, selftest_ran: ran } : { decision, filesystem, selftest_ran: ran, basis };
}

/** The decision from the facts, with the host's QEMU as evidence; through the memo when there is one. */
function decisionFor(input: DecisionInput, req: JudgeRequest, memo: DecisionMemo | undefined, qemu: QemuFacts | undefined): { decision: Decision; basis?: Decision } {
  if (req.kernel_release_override !== undefined) input.kernel_release_override = req.kernel_release_override;
  if (req.kernel_version_override !== undefined) input.kernel_version_override = req.kernel_version_override;
  if (req.version_signature_override !== undefined) input.version_signature_override = req.version_signature_override;
  const compute = (): Decision => {
    // the host's QEMU versions decide whether a remedy is needed (QEMU >= 4.1.1 serialises)
    const hostQemu = qemu === undefined ? null : { versions: qemu.binaries.flatMap((b) => (b.version === null ? [] : [b.version])) };
    const decided = decide({ ...input, host_qemu: hostQemu });
    return qemu === undefined ? decided : withQemuEvidence(decided, qemu.binaries, qemuNote(qemu));
  };
  // host_qemu follows from qemu, which the memo compares as a whole.
  return memo === undefined ? { decision: compute() } : memo.decide(input, qemu, compute);
}

/** What the QEMU probe could not tell: binaries left out, versions it could not read. */
function qemuNote(q: QemuFacts): string | null {
  const unread = q.binaries.filter((b) => b.error !== null).map((b) => `${b.path}: ${b.error}`);
  const parts = [...(q.note === null ? [] : [q.note]), ...unread];
  return parts.length === 0 ? null : parts.join('; ');
}
