// Guest-side: the full self-test (probes/selftest.ts, with its own child process)
// N times on one directory, aio × ZERO_RANGE, printing ONE line
//   @@selftest-json {"kernel", "reports": [{"outcome", "below_range_outcome", "reproductions", "timed_out", "runs"}]}
//   node --import tsx test/vm/selftest-driver.ts DIR [N] [BUDGET_MS]
import { readFileSync } from 'node:fs';
import { probeFilesystem } from '../../probes/filesystem.js';
import { probeKernel } from '../../probes/kernel.js';
import { runSelfTest } from '../../probes/selftest.js';

const [dir, n = '3', budget = '3000'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: selftest-driver.ts DIR [N] [BUDGET_MS]');
  process.exit(2);
}
const fs = await probeFilesystem(dir);
const kernel = await probeKernel();
const reports: unknown[] = [];
for (let i = 0; i < Number(n); i++) {
  const r = await runSelfTest(fs, kernel, { engines: ['aio'], modes: ['zero-range'], budget_ms: Number(budget), max_bytes: 32 << 20 });
  reports.push({
    outcome: r.outcome,
    below_range_outcome: r.below_range_outcome ?? null,
    reproductions: r.reproductions,
    timed_out: r.timeout != null,
    runs: r.runs.map((x) => ({ window: x.window ?? null, outcome: x.outcome, iterations: x.iterations, in_flight: x.in_flight_iterations, reason: x.reason?.message ?? null })),
  });
}
const k = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
console.log(`@@selftest-json ${JSON.stringify({ kernel: k, reports })}`);
