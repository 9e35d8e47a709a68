// Prometheus metrics (prom-client), on a registry of the app's own so tests can build many apps.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SelfTestReport } from '../../probes/types.js';
import type { ServiceState } from './state.js';

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly decisions: Counter<'verdict'>;
  readonly selftestRuns: Counter<'outcome'>;
  readonly selftestDuration: Histogram;
  readonly requestDuration: Histogram<'method' | 'route' | 'status_code'>;

  constructor(state: ServiceState, opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'xfsguard_' });
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
    this.selftestDuration = new Histogram({
      name: 'xfsguard_selftest_duration_seconds',
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
