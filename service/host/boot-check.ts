// The boot check: once per boot, self-test every allowed root's filesystem (once per device), store
// the results in the state directory, judge each root and publish node-level outputs.
import { access, constants, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Verdict } from '../../policies/decide.js';
import { probeFilesystem } from '../../probes/filesystem.js';
import { probeKernel } from '../../probes/kernel.js';
import { writeFileAtomic } from '../../probes/selftest-cache.js';
import type { FilesystemFacts, SelfTestEvidence, SelfTestReport } from '../../probes/types.js';
import { judge, selfTestAndStore, selfTestApplies, type JudgeContext } from '../judge.js';
import { XFSGUARD_VERSION } from '../package-info.js';
import { countImageFiles } from './image-files.js';
import { nodeVerdict } from './nfd.js';

export const BOOT_CHECK_FILE = 'boot-check.json';
/** Total for all self-tests of one boot check; split evenly across the filesystems still to test. */
export const DEFAULT_BOOT_BUDGET_MS = 60_000;

export interface RootSelfTest {
  device: string;
  outcome: SelfTestReport['outcome'];
  /** Run by this boot check (false: this boot's stored result was reused, with --selftest auto). */
  ran: boolean;
  /** The root whose test this is, when another root on the same filesystem ran it. */
  shared_with: string | null;
  duration_ms: number;
  iterations: number;
  reproductions: number;
  reason: string | null;
}

export interface RootResult {
  root: string;
  /** judged; missing (does not exist, not fatal); error (could not be probed or judged). */
  status: 'judged' | 'missing' | 'error';
  device: string | null;
  fs_type: string | null;
  verdict: Verdict | null;
  enable_workaround: boolean | null;
  /** The decision's id and time, as in `check --json`, the API and the logs. */
  decision_id: string | null;
  decided_at: string | null;
  reasons: string[];
  /** VM image files under the root (bounded walk), null when not looked at. */
  image_files: number | null;
  selftest: RootSelfTest | null;
  error: string | null;
}

export interface OutputResult {
  path: string | null;
  written: boolean;
  /** Why it was not written (disabled, directory missing, error). */
  note: string | null;
}

export interface BootCheckReport {
  format: 'xfsguard-boot-check';
  format_version: 1;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  budget_ms: number;
  kernel_release: string;
  boot_id: string | null;
  xfsguard_version: string;
  knowledge_base_revision: string;
  policy_source: string;
  state_dir: string;
  node: { verdict: Verdict; enable_workaround: boolean };
  roots: RootResult[];
  outputs: { state: OutputResult; nfd: OutputResult; textfile: OutputResult };
}

export interface BootCheckOptions {
  roots: readonly string[];
  budget_ms: number;
  /** always (default): a fresh self-test per filesystem; auto: reuse this boot's stored one. */
  selftest: 'always' | 'auto';
  iterations?: number;
  progress?: (message: string) => void;
  now?: () => number;
}

function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code !== undefined ? `${e.code}: ${e.message}` : err instanceof Error ? err.message : String(err);
}

/** Can the state directory be created and written? The boot check is pointless if its results cannot be stored. */
export async function stateDirWritable(dir: string): Promise<string | null> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await access(dir, constants.W_OK | constants.X_OK);
    return null;
  } catch (err) {
    return errText(err);
  }
}

function selftestSummary(ev: SelfTestEvidence, ran: boolean, sharedWith: string | null): RootSelfTest {
  const r = ev.report;
  return {
    device: r.device, outcome: r.outcome, ran, shared_with: sharedWith, duration_ms: r.duration_ms,
    iterations: r.iterations, reproductions: r.reproductions, reason: r.reason,
  };
}

export async function runBootCheck(ctx: JudgeContext, opts: BootCheckOptions): Promise<BootCheckReport> {
  const now = opts.now ?? Date.now;
  const started = now();
  const progress = opts.progress ?? (() => undefined);
  const kernel = ctx.kernel ?? (await probeKernel());
  const judgeCtx: JudgeContext = { ...ctx, kernel };
  const roots = [...new Set(opts.roots.map((r) => path.resolve(r)))];

  // Probe every root first, so the budget is split over the filesystems that will really be tested.
  const probed: { root: string; fs: FilesystemFacts | null; result: RootResult }[] = [];
  for (const root of roots) {
    const result: RootResult = { root, status: 'judged', device: null, fs_type: null, verdict: null, enable_workaround: null, decision_id: null, decided_at: null, reasons: [], image_files: null, selftest: null, error: null };
    let fs: FilesystemFacts | null = null;
    try {
      const st = await stat(root);
      if (!st.isDirectory()) throw Object.assign(new Error(`${root} is not a directory`), { code: 'ENOTDIR' });
      fs = await probeFilesystem(root);
      result.device = fs.device;
      result.fs_type = fs.fs_type;
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      result.status = missing ? 'missing' : 'error';
      result.error = missing ? `${root} does not exist` : errText(err);
    }
    probed.push({ root, fs, result });
  }

  const testDevices = new Set(probed.flatMap((p) => (p.fs !== null && selfTestApplies(p.fs) ? [p.fs.device] : [])));
  const tested = new Map<string, { evidence: SelfTestEvidence; ran: boolean; by: string }>();

  /** This filesystem's self-test: already done by another root, stored this boot (auto), or run now. */
  const selfTestFor = async (root: string, fs: FilesystemFacts): Promise<{ evidence: SelfTestEvidence; summary: RootSelfTest }> => {
    const done = tested.get(fs.device);
    if (done !== undefined) return { evidence: done.evidence, summary: selftestSummary(done.evidence, false, done.by) };
    let evidence: SelfTestEvidence | null = null;
    if (opts.selftest === 'auto') {
      evidence = await ctx.cache.read({ boot_id: kernel.boot_id, kernel_release: kernel.release, device: fs.device, fs_uuid: fs.fs_uuid });
    }
    const ran = evidence === null;
    if (evidence === null) {
      const remaining = Math.max(1, testDevices.size - tested.size);
      const budget = Math.max(1000, Math.floor((opts.budget_ms - (now() - started)) / remaining));
      progress(`self-testing ${root} (${fs.fs_type} on ${fs.device}, budget ${budget} ms)`);
      const report = await selfTestAndStore(fs, kernel, judgeCtx, {
        budget_ms: budget,
        ...(opts.iterations !== undefined ? { iterations: opts.iterations } : {}),
      });
      evidence = { report, cached: false, age_ms: 0 };
    }
    tested.set(fs.device, { evidence, ran, by: root });
    return { evidence, summary: selftestSummary(evidence, ran, null) };
  };

  for (const { root, fs, result } of probed) {
    if (fs === null) continue;
    try {
      const test = selfTestApplies(fs) ? await selfTestFor(root, fs) : null;
      result.selftest = test?.summary ?? null;
      const { decision } = await judge({ path: root, io_mode: null, selftest: 'never', knownSelfTest: test?.evidence ?? null }, judgeCtx);
      result.verdict = decision.verdict;
      result.enable_workaround = decision.enable_workaround;
      result.decision_id = decision.decision_id;
      result.decided_at = decision.decided_at;
      result.reasons = decision.reasons.map((r) => r.code);
      result.image_files = (await countImageFiles(root)).files;
    } catch (err) {
      result.status = 'error';
      result.error = errText(err);
    }
  }

  const results = probed.map((p) => p.result);
  const judged = results.filter((r) => r.status === 'judged');
  const verdict = nodeVerdict(judged.map((r) => r.verdict).filter((v): v is Verdict => v !== null));
  const finished = now();
  return {
    format: 'xfsguard-boot-check',
    format_version: 1,
    started_at: new Date(started).toISOString(),
    finished_at: new Date(finished).toISOString(),
    duration_ms: finished - started,
    budget_ms: opts.budget_ms,
    kernel_release: kernel.release,
    boot_id: kernel.boot_id,
    xfsguard_version: XFSGUARD_VERSION,
    knowledge_base_revision: ctx.knowledgeBase.revision,
    policy_source: ctx.policy.source,
    state_dir: ctx.cache.dir,
    node: { verdict, enable_workaround: verdict === 'unknown' || judged.some((r) => r.enable_workaround === true) },
    roots: results,
    outputs: {
      state: { path: path.join(ctx.cache.dir, BOOT_CHECK_FILE), written: false, note: null },
      nfd: { path: null, written: false, note: 'disabled' },
      textfile: { path: null, written: false, note: 'disabled' },
    },
  };
}

/** The whole report, for the service and for people: STATE_DIR/boot-check.json (atomic). */
export async function writeBootCheckFile(report: BootCheckReport): Promise<void> {
  await writeFileAtomic(path.join(report.state_dir, BOOT_CHECK_FILE), `${JSON.stringify(report, null, 2)}\n`, 0o644);
}

/** One line per root: `ROOT  VERDICT  selftest OUTCOME in N.Ns` (or why it was not judged). */
export function renderBootCheckSummary(report: BootCheckReport): string {
  const lines = [`xfsguard boot-check: kernel ${report.kernel_release}, node verdict ${report.node.verdict}${report.node.enable_workaround ? ' (workaround needed)' : ''}, ${(report.duration_ms / 1000).toFixed(1)} s`];
  const width = Math.max(...report.roots.map((r) => r.root.length), 4);
  for (const r of report.roots) {
    let what: string;
    if (r.status !== 'judged') what = `${r.status}: ${r.error ?? ''}`;
    else {
      const st = r.selftest;
      const test = st === null
        ? `no self-test (${r.fs_type ?? '?'})`
        : st.shared_with !== null
          ? `selftest ${st.outcome} (same filesystem as ${st.shared_with})`
          : `selftest ${st.outcome}${st.ran ? '' : ' (stored)'} in ${(st.duration_ms / 1000).toFixed(1)} s`;
      what = `${(r.verdict ?? '?').padEnd(12)} ${test}`;
    }
    lines.push(`  ${r.root.padEnd(width)}  ${what}`);
  }
  if (report.roots.length === 0) lines.push('  (no allowed roots)');
  for (const [name, o] of Object.entries(report.outputs)) {
    lines.push(`  ${name}: ${o.written ? `written ${o.path}` : `not written${o.path !== null ? ` ${o.path}` : ''} (${o.note ?? '?'})`}`);
  }
  return lines.join('\n');
}
