// The service's limits on requests and filesystem probes, and their defaults.

export interface ServiceLimits {
  /** Largest request body accepted (413 beyond). */
  bodyLimit: number;
  /** Self-test requests accepted per rateWindowMs from one client (TCP address, or uid on the socket). */
  selftestRateMax: number;
  selftestRateWindowMs: number;
  /** Whole request (headers and body) must arrive within this (408 after). */
  requestTimeoutMs: number;
  /** Headers must arrive within this (408 after). */
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** How often Node checks requestTimeout/headersTimeout. */
  connectionsCheckingIntervalMs: number;
  /** A filesystem probe (realpath, stat, statfs of a requested path) must answer within this (504 after). */
  probeTimeoutMs: number;
  /**
   * Probes past their deadline each still hold a libuv thread-pool thread (a hung FUSE or NFS
   * mount): with this many stuck, new probes would only queue, so they are refused (503).
   */
  maxStuckProbes: number;
}

export const DEFAULT_LIMITS: ServiceLimits = {
  bodyLimit: 16 * 1024,
  selftestRateMax: 6,
  selftestRateWindowMs: 60_000,
  requestTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  keepAliveTimeoutMs: 5_000,
  connectionsCheckingIntervalMs: 1_000,
  // below the probe's own 5 s statfs limit, so a hang is always answered here (504, not 500)
  probeTimeoutMs: 4_000,
  maxStuckProbes: Math.max(1, Number(process.env.UV_THREADPOOL_SIZE) || 4),
};
