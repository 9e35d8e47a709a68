// Prometheus metrics (prom-client), on a registry of the app's own so tests can build many apps.
// prom-client's process_* / nodejs_* defaults keep their standard names (stock dashboards key on
// them); a family that is also in the boot check's textfile has the same name, type and labels.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Verdict } from '../../policies/decide.js';
import { hungDevices } from '../../probes/selftest-process.js';
import type { SelfTestReport } from '../../probes/types.js';
import type { ServiceState } from './state.js';

/** prom-client defaults that are gauges with a counter's _total suffix. */
export const GAUGES_NAMED_TOTAL = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const;

export interface RootVerdict {
  root: string;
  verdict: Verdict;
  enable_workaround: boolean;
}

export interface BuildInfo {
  version: string;
  knowledge_base_revision: string;
}

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly decisions: Counter<'verdict'>;
  readonly selftestRuns: Counter<'outcome'>;
  readonly selftestDuration: Histogram;
  readonly requestDuration: Histogram<'method' | 'route' | 'status_code'>;

  constructor(state: ServiceState, opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges named like counters (promtool rejects them); nodejs_active_{handles,requests,resources}
      // by type stay, and their sum is the same number.
      for (const name of GAUGES_NAMED_TOTAL) this.registry.removeSingleMetric(name);
    }
    this.decisions = new Counter({
      name: 'xfsguard_decisions_total',
      help: 'Decisions served, by verdict',
      labelNames: ['verdict'],
      registers,
    });
    this.selftestRuns = new Counter({
      name: 'xfsguard_selftest_runs_total',
      help: 'Self-tests run by this process, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    // The textfile's xfsguard_selftest_duration_seconds is a gauge per filesystem; so is this
    // process's (below), and the distribution of its runs is a histogram of another name.
    this.selftestDuration = new Histogram({
      name: 'xfsguard_selftest_run_duration_seconds',
      help: 'Wall time of the self-tests run by this process',
      buckets: [0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'xfsguard_http_request_duration_seconds',
      help: 'HTTP request latency, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30],
      registers,
    });
    new Gauge({
      name: 'xfsguard_selftest_newest_age_seconds',
      help: 'Age of the newest known self-test per filesystem (device major:minor)',
      labelNames: ['device', 'fs_type', 'outcome', 'current_boot'],
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const s of state.entries()) {
          this.set(
            { device: s.report.device, fs_type: s.report.fs_type, outcome: s.report.outcome, current_boot: String(state.isCurrent(s)) },
            Math.max(0, now - s.written_at) / 1000,
          );
        }
      },
    });
    new Gauge({
      name: 'xfsguard_selftest_device_unresponsive',
      help: 'A self-test on this filesystem (device major:minor) did not finish by its deadline and is still stuck (1); its device did not respond',
      labelNames: ['device'],
      registers,
      collect() {
        this.reset();
        for (const h of hungDevices()) this.set({ device: h.device }, 1);
      },
    });
    new Gauge({
      name: 'xfsguard_selftest_duration_seconds',
      help: 'Wall time of the newest known self-test per filesystem (device major:minor)',
      labelNames: ['device'],
      registers,
      collect() {
        this.reset();
        for (const s of state.entries()) this.set({ device: s.report.device }, s.report.duration_ms / 1000);
      },
    });
  }

  /** xfsguard_build_info: always 1, labelled with the version and the knowledge-base revision. */
  buildInfo(build: BuildInfo): void {
    const g = new Gauge({
      name: 'xfsguard_build_info',
      help: 'Always 1: the xfsguard version and knowledge-base revision of this process',
      labelNames: ['version', 'knowledge_base_revision'],
      registers: [this.registry],
    });
    g.set({ version: build.version, knowledge_base_revision: build.knowledge_base_revision }, 1);
  }

  /**
   * Per allowed root, as in the boot check's textfile: xfsguard_workaround_needed{root,verdict}, judged
   * at scrape time from the facts and self-tests at hand (no self-test is started by a scrape).
   */
  watchRoots(judgeRoots: () => Promise<RootVerdict[]>): void {
    new Gauge({
      name: 'xfsguard_workaround_needed',
      help: "Whether QEMU's XFS fallocate vs AIO+DIO workaround is needed for images under the root (1) or not (0), by verdict",
      labelNames: ['root', 'verdict'],
      registers: [this.registry],
      async collect() {
        const roots = await judgeRoots();
        this.reset();
        for (const r of roots) this.set({ root: r.root, verdict: r.verdict }, r.enable_workaround ? 1 : 0);
      },
    });
  }

  /** A gauge of the filesystem probes stuck past their deadline (a hung mount holds them). */
  watchProbes(probes: { readonly stuck: number }): void {
    new Gauge({
      name: 'xfsguard_filesystem_probes_stuck',
      help: 'Filesystem probes past their deadline that have not returned (each holds a thread-pool thread)',
      registers: [this.registry],
      collect() {
        this.set(probes.stuck);
      },
    });
  }

  selftestFinished(report: SelfTestReport): void {
    this.selftestRuns.inc({ outcome: report.outcome });
    this.selftestDuration.observe(report.duration_ms / 1000);
  }
}
