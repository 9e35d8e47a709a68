// What the service keeps in memory: the kernel probed once at start-up, host facts, readiness, and
// the newest self-test per filesystem (loaded from the state directory at start-up, refreshed as
// self-tests finish). Requests read self-tests from here, never from the state files.
import type { CacheFile } from '../../probes/selftest-schema.js';
import { SelfTestCache, reportMatches, type CacheKey } from '../../probes/selftest-cache.js';
import type { HostFacts } from '../../probes/host.js';
import type { QemuFacts } from '../../probes/qemu.js';
import type { KernelFacts, SelfTestEvidence, SelfTestReport } from '../../probes/types.js';


export interface StoredSelfTest {
  report: SelfTestReport;
  /** ms since the epoch the record was written (or the run finished, for runs by this process). */
  written_at: number;
}

export class ServiceState {
  kernel: KernelFacts | null = null;
  host: HostFacts | null = null;
  private hostSource: (() => Promise<HostFacts>) | null = null;
  private hostPending: Promise<HostFacts> | null = null;
  /** The host's QEMU binaries and versions, read once at start-up. */
  qemu: QemuFacts | null = null;
  readonly started_at = Date.now();
  private readyFlag = false;
  private closingFlag = false;
  /** Newest self-test per device. */
  private readonly selftests = new Map<string, StoredSelfTest>();

  get ready(): boolean {
    return this.readyFlag && !this.closingFlag;
  }

  get closing(): boolean {
    return this.closingFlag;
  }

  /** Why the service is not ready, or null. */
  notReadyReason(): string | null {
    if (this.closingFlag) return 'shutting down';
    if (!this.readyFlag) return 'starting: kernel probe and self-test state not loaded yet';
    return null;
  }

  /**
   * Start-up is over: the kernel is probed and the cached self-tests are loaded. Host facts are
   * given, or gathered by `host` on the first hostFacts() call (only /v1/host shows them).
   */
  markReady(
    kernel: KernelFacts,
    records: readonly CacheFile[],
    host: HostFacts | null | (() => Promise<HostFacts>) = null,
    qemu: QemuFacts | null = null,
  ): void {
    this.kernel = kernel;
    if (typeof host === 'function') this.hostSource = host;
    else this.host = host;
    this.qemu = qemu;
    for (const r of records) this.put(r.report, Date.parse(r.written_at));
    this.readyFlag = true;
  }

  /** The host facts: gathered once, on first use; null when none were given. */
  async hostFacts(): Promise<HostFacts | null> {
    if (this.host === null && this.hostSource !== null) {
      const source = this.hostSource;
      this.hostSource = null;
      this.hostPending = source().then((h) => (this.host = h));
    }
    if (this.hostPending !== null) await this.hostPending;
    return this.host;
  }

  markClosing(): void {
    this.closingFlag = true;
  }

  /** Keeps a self-test if it is the newest known for its filesystem. */
  put(report: SelfTestReport, writtenAt = Date.now()): void {
    const at = Number.isFinite(writtenAt) ? writtenAt : Date.now();
    const old = this.selftests.get(report.device);
    if (old !== undefined && old.written_at > at) return;
    this.selftests.set(report.device, { report, written_at: at });
  }

  /** The self-test that answers for this boot, kernel and filesystem, or null (a memory lookup). */
  lookup(key: CacheKey, now = Date.now()): SelfTestEvidence | null {
    const hit = this.selftests.get(key.device);
    if (hit === undefined || !reportMatches(hit.report, key)) return null;
    return { report: hit.report, cached: true, age_ms: Math.max(0, now - hit.written_at) };
  }

  /** Does this stored self-test answer for the running boot and kernel? */
  isCurrent(s: StoredSelfTest): boolean {
    const k = this.kernel;
    return k !== null && k.boot_id !== null && s.report.boot_id === k.boot_id && s.report.kernel_release === k.release;
  }

  entries(): StoredSelfTest[] {
    return [...this.selftests.values()].sort((a, b) => a.report.device.localeCompare(b.report.device));
  }
}

/**
 * The state directory as the judging flow sees it: reads answer from memory, writes go to disk
 * (and the judge's onSelfTest callback puts the result in memory).
 */
export class MemoryBackedCache extends SelfTestCache {
  constructor(
    dir: string,
    private readonly state: ServiceState,
    warn?: (message: string) => void,
  ) {
    super(dir, warn);
  }

  override read(key: CacheKey, now = Date.now()): Promise<SelfTestEvidence | null> {
    return Promise.resolve(this.state.lookup(key, now));
  }
}
