// The service the routes use: the judging flow bound to the service's state, policy and limits.
import { reportIsStorable } from '../../probes/selftest-runs.js';
import type { KnowledgeBase } from '../../policies/knowledge-base-schema.js';
import { isUnderAllowedRoots, isUnderPrefix, type OperatorPolicy } from '../../policies/operator-policy.js';
import { probeFilesystem, resolvesByWalkingUp } from '../../probes/filesystem.js';
import { FilesystemFactsCache } from '../../probes/filesystem-cache.js';
import { checkPathInput } from '../../probes/path-input.js';
import type { SelfTestOptions } from '../../probes/selftest.js';
import type { FilesystemFacts, KernelFacts, SelfTestReport } from '../../probes/types.js';
import { DecisionMemo } from '../decision-memo.js';
import { judge, selfTestAndStore, type JudgeContext, type JudgeRequest, type Judgement } from '../judge.js';
import { AllowedRootsSingleFlight } from './allowed-roots-single-flight.js';
import { ApiError, notAllowed } from './errors.js';
import { DEFAULT_LIMITS, type ServiceLimits } from './limits.js';
import { XFSGUARD_VERSION } from '../package-info.js';
import { ServiceMetrics, type RootVerdict } from './metrics.js';
import { ProbeGuard } from './probe-guard.js';
import { MemoryBackedCache, ServiceState } from './state.js';
import { Turns } from './turns.js';

/**
 * Decisions reuse a path's filesystem facts and the mount table this long (each reuse checked by
 * one statfs): a remount or a path created meanwhile shows after at most this.
 */
const FACTS_MAX_AGE_MS = 1000;

/** Decisions judged per event-loop turn before the loop reads its sockets again (health probes first). */
const DECISIONS_PER_TURN = 16;

export interface ServiceDeps {
  policy: OperatorPolicy;
  knowledgeBase: KnowledgeBase;
  /** The state directory where self-test results are stored. */
  stateDir: string;
  /** In-memory state; markReady() it (server.ts does) before decisions are served. */
  state?: ServiceState;
  metrics?: ServiceMetrics;
  /** Aborted at shutdown: running self-tests are cancelled. */
  shutdownSignal?: AbortSignal;
  /** Defaults for self-tests this service runs (decision with selftest=auto, POST /v1/selftest). */
  selftest?: Pick<SelfTestOptions, 'budget_ms' | 'iterations' | 'max_bytes'>;
  limits?: Partial<ServiceLimits>;
  /** Whether the native addon loaded (server.ts tries once). */
  native?: { available: boolean; error: string | null };
  /** Replaceable for tests; default the shared judging flow. */
  judge?: (req: JudgeRequest, ctx: JudgeContext) => Promise<Judgement>;
  /** Replaceable for tests; default selfTestAndStore (runs the native race, stores the result). */
  selfTest?: (fs: FilesystemFacts, kernel: KernelFacts, ctx: JudgeContext, options: SelfTestOptions) => Promise<SelfTestReport>;
  probeFilesystem?: (absolute: string) => Promise<FilesystemFacts>;
}

/** What the routes use: the judging flow bound to the service's state, policy and limits. */
export class XfsguardService {
  readonly state: ServiceState;
  readonly metrics: ServiceMetrics;
  readonly policy: OperatorPolicy;
  readonly knowledgeBase: KnowledgeBase;
  readonly native: { available: boolean; error: string | null };
  readonly singleFlight: AllowedRootsSingleFlight;
  private readonly cache: MemoryBackedCache;
  private readonly judgeFn: NonNullable<ServiceDeps['judge']>;
  private readonly selfTestFn: NonNullable<ServiceDeps['selfTest']>;
  readonly probeFilesystem: NonNullable<ServiceDeps['probeFilesystem']>;
  private readonly selftestDefaults: SelfTestOptions;
  private ctx: JudgeContext | null = null;
  /** Facts for decisions; self-tests probe afresh (this.probeFilesystem). */
  private readonly decisionProbe: (absolute: string) => Promise<FilesystemFacts>;
  readonly probes: ProbeGuard;
  private readonly turns = new Turns(DECISIONS_PER_TURN);
  /** Decisions computed once per change of their facts (the kernel, policy and knowledge base are this service's). */
  private readonly memo = new DecisionMemo();
  warn: (message: string) => void = () => undefined;
  error: (message: string) => void = () => undefined;

  constructor(deps: ServiceDeps) {
    this.state = deps.state ?? new ServiceState();
    this.metrics = deps.metrics ?? new ServiceMetrics(this.state);
    this.policy = deps.policy;
    this.knowledgeBase = deps.knowledgeBase;
    this.native = deps.native ?? { available: true, error: null };
    this.singleFlight = new AllowedRootsSingleFlight(deps.policy);
    this.cache = new MemoryBackedCache(deps.stateDir, this.state, (m) => this.warn(m));
    this.judgeFn = deps.judge ?? judge;
    this.selfTestFn = deps.selfTest ?? selfTestAndStore;
    const limits = { ...DEFAULT_LIMITS, ...deps.limits };
    this.probes = new ProbeGuard(limits.probeTimeoutMs, limits.maxStuckProbes, (p, ms) =>
      this.error(`the filesystem probe of ${p} has not returned after ${ms} ms (a hung mount?); it holds a thread-pool thread until it does`),
    );
    this.probeFilesystem = this.probes.wrap(deps.probeFilesystem ?? ((p) => probeFilesystem(p, { mountTableMaxAgeMs: FACTS_MAX_AGE_MS })));
    const facts = new FilesystemFactsCache({ ttlMs: FACTS_MAX_AGE_MS });
    const guarded = this.probes.wrap(deps.probeFilesystem ?? ((p) => facts.probe(p)));
    // Reused local facts are checked synchronously (cannot hang): no guard, timer or thread-pool hop.
    this.decisionProbe = deps.probeFilesystem !== undefined ? guarded : (p) => {
      const hit = facts.fresh(p);
      return hit !== null ? Promise.resolve(hit) : guarded(p);
    };
    this.metrics.watchProbes(this.probes);
    this.metrics.buildInfo({ version: XFSGUARD_VERSION, knowledge_base_revision: deps.knowledgeBase.revision });
    this.metrics.watchRoots(() => this.rootVerdicts());
    this.selftestDefaults = { ...deps.selftest, ...(deps.shutdownSignal ? { signal: deps.shutdownSignal } : {}) };
  }

  /** The judging context; only once ready (the kernel is probed at start-up). */
  context(): JudgeContext {
    const reason = this.state.notReadyReason();
    if (reason !== null || this.state.kernel === null) throw new ApiError(503, 'not_ready', `not ready: ${reason ?? 'no kernel facts'}`);
    this.ctx ??= {
      policy: this.policy,
      knowledgeBase: this.knowledgeBase,
      cache: this.cache,
      kernel: this.state.kernel,
      singleFlight: this.singleFlight,
      onSelfTest: (report) => {
        // A hung device or a moved directory says nothing about the race: /readyz and /metrics show the hang instead.
        if (reportIsStorable(report)) this.state.put(report);
        this.metrics.selftestFinished(report);
      },
      warn: (m) => this.warn(m),
      probeFilesystem: this.decisionProbe,
      memo: this.memo,
      ...(this.state.qemu !== null ? { qemu: this.state.qemu } : {}),
      // The self-test writes a scratch file: never outside the allowed roots.
      selfTestAllowed: (fs) => isUnderAllowedRoots(fs.judged_directory, this.policy),
    };
    return this.ctx;
  }

  /** A path from a request: well-formed, absolute, and under the allowed roots as given. */
  checkPath(input: string): string {
    const p = checkPathInput(input, { requireAbsolute: true });
    if (!isUnderAllowedRoots(p, this.policy)) throw notAllowed(p, null, this.policy);
    return p;
  }

  /** The resolved judged directory must be under the allowed roots too (no escape by symlink). */
  checkResolved(fs: FilesystemFacts): void {
    if (!isUnderAllowedRoots(fs.judged_directory, this.policy)) throw notAllowed(fs.requested_path, fs.judged_directory, this.policy);
  }

  /**
   * A decision may also be about a path whose allowed root does not exist yet (a fresh host asked
   * about /var/lib/libvirt/images before libvirt made it): then the judged directory is an
   * existing ancestor of that root, looked at with statfs only — judge() runs no self-test outside
   * the roots. Only an ancestor reached by walking up the root's own path: a symlink on the way
   * (dangling or not) leads outside the roots, and is refused like any path outside them.
   */
  async checkResolvedForDecision(fs: FilesystemFacts): Promise<void> {
    if (isUnderAllowedRoots(fs.judged_directory, this.policy)) return;
    const aboveMissingRoot =
      fs.path_kind === 'missing' &&
      this.policy.allowed_roots.some((r) => isUnderPrefix(fs.requested_path, r) && isUnderPrefix(r, fs.judged_directory)) &&
      (await resolvesByWalkingUp(fs.requested_path, fs.judged_directory));
    if (!aboveMissingRoot) throw notAllowed(fs.requested_path, fs.judged_directory, this.policy);
  }

  async decide(
    path: string,
    ioMode: JudgeRequest['io_mode'],
    selftest: 'auto' | 'never',
    whatIf: Pick<JudgeRequest, 'kernel_release_override' | 'kernel_version_override' | 'version_signature_override' | 'decision_id'> = {},
  ): Promise<Judgement> {
    const ctx = this.context();
    await this.turns.next();
    const judgement = await this.judgeFn({ path, io_mode: ioMode, selftest, selftestOptions: this.selftestDefaults, ...whatIf }, ctx);
    await this.checkResolvedForDecision(judgement.filesystem);
    return judgement;
  }

  /** Each existing allowed root's verdict, from the facts and self-tests at hand (for /metrics; starts no self-test). */
  async rootVerdicts(): Promise<RootVerdict[]> {
    if (this.state.notReadyReason() !== null) return [];
    const out: RootVerdict[] = [];
    for (const root of this.policy.allowed_roots) {
      try {
        const { decision, filesystem } = await this.decide(root, null, 'never');
        if (filesystem.path_kind !== 'missing') out.push({ root, verdict: decision.verdict, enable_workaround: decision.enable_workaround });
      } catch {
        // not judgeable now (a hung mount, a probe error): no sample rather than a wrong one
      }
    }
    return out;
  }

  /** Runs a self-test on the filesystem, or joins the one running there. */
  async selfTest(fs: FilesystemFacts, options: SelfTestOptions): Promise<{ report: SelfTestReport; joined: boolean }> {
    const ctx = this.context();
    this.checkResolved(fs);
    // selfTestAndStore enters the single-flight synchronously, so this tells whether it joins.
    const joined = this.singleFlight.isRunning(fs.device);
    const report = await this.selfTestFn(fs, ctx.kernel!, ctx, { ...this.selftestDefaults, ...options });
    return { report, joined };
  }
}
