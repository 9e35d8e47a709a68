// Ground truth: the race self-test against real kernels booted under QEMU (test VMs, see
// /work/shared/vm/README.md). One boot per kernel; each guest runs every engine × mode on the
// virtio XFS and on a fast device (XFS on a loop device backed by tmpfs) and prints one JSON document.
//   6.1.192-xfsrace (fix removed): every engine × mode must be 'reproduced', on both devices;
//   6.1.192 (fixed): every one 'not_reproduced' — never 'reproduced'.
// Needs qemu-system-x86_64, mkfs.xfs, the kernels and run.sh (test/helpers/vm.ts says where).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Engine, FallocMode, RaceResult } from '../native/types.js';
import { BROKEN_KERNEL, FIXED_KERNEL, runInVm, vmUnavailable } from './helpers/vm.js';

const BOOT_TIMEOUT_MS = 240_000;

interface Device {
  label: string;
  latency_us: { write_4k: number | null; write_1m: number | null } | null;
  results: (RaceResult & { run: number })[];
  error?: string;
}
interface GuestReport {
  kernel: string;
  devices: Device[];
}

/** Boots `kernel`, runs the guest script, returns its JSON document. */
async function boot(kernel: string): Promise<{ report: GuestReport; seconds: number }> {
  const run = await runInVm(kernel, 'sh test/vm/guest-race.sh', { timeoutMs: BOOT_TIMEOUT_MS });
  const line = run.output.split('\n').find((l) => l.startsWith('@@race-json '));
  if (run.code !== 0 || line === undefined) throw new Error(`VM ${path.basename(kernel)} exited ${run.code}:\n${run.output}`);
  return { report: JSON.parse(line.slice('@@race-json '.length)) as GuestReport, seconds: run.ms / 1000 };
}

const ENGINES: Engine[] = ['aio', 'io_uring'];
const MODES: FallocMode[] = ['zero-range', 'alloc'];

function summary(d: Device): string {
  const lat = d.latency_us ? ` (dd O_DIRECT: ${d.latency_us.write_4k} µs/4 KiB, ${d.latency_us.write_1m} µs/1 MiB)` : '';
  return `${d.label}${lat}: ` + d.results.map((r) => `${r.engine}/${r.mode}=${r.outcome}[${r.in_flight_iterations}/${r.iterations} in flight, first@${r.first_reproduction?.io_size ?? '-'}B]`).join(' ');
}

function byDevice(report: GuestReport): Map<string, Device> {
  const m = new Map<string, Device>();
  for (const d of report.devices) m.set(d.label, d);
  for (const label of ['virtio', 'fast']) {
    const d = m.get(label);
    assert.ok(d, `no ${label} device in the guest report`);
    assert.equal(d.error, undefined, `${label}: ${d.error}`);
    for (const engine of ENGINES) {
      for (const mode of MODES) {
        assert.ok(d.results.some((r) => r.engine === engine && r.mode === mode), `${label}: no ${engine}/${mode} result`);
      }
    }
  }
  return m;
}

const skip = vmUnavailable();

test('VM kernels: broken 6.1.192-xfsrace reproduces everywhere, fixed 6.1.192 never', { skip: skip ?? false, timeout: BOOT_TIMEOUT_MS + 30_000 }, async (t) => {
  // Both boots at once; each guest is a single CPU. Default limits per run: 16 MiB, 3 s.
  const [broken, fixed] = await Promise.all([boot(BROKEN_KERNEL), boot(FIXED_KERNEL)]);

  assert.equal(broken.report.kernel, '6.1.192-xfsrace');
  assert.equal(fixed.report.kernel, '6.1.192');
  t.diagnostic(`boots: broken ${broken.seconds.toFixed(1)} s, fixed ${fixed.seconds.toFixed(1)} s`);

  for (const d of byDevice(broken.report).values()) {
    t.diagnostic(`broken ${summary(d)}`);
    for (const r of d.results) {
      assert.equal(r.outcome, 'reproduced', `broken kernel, ${d.label} ${r.engine}/${r.mode}: ${JSON.stringify(r)}`);
      assert.ok(r.first_reproduction !== null);
      assert.ok(r.first_reproduction.actual_size < r.first_reproduction.expected_size);
      assert.ok(r.bytes_written <= 16 << 20);
    }
  }
  for (const d of byDevice(fixed.report).values()) {
    t.diagnostic(`fixed ${summary(d)}`);
    for (const r of d.results) {
      assert.notEqual(r.outcome, 'reproduced', `fixed kernel reproduced (false positive), ${d.label} ${r.engine}/${r.mode}: ${JSON.stringify(r.first_reproduction)}`);
      assert.equal(r.outcome, 'not_reproduced', `fixed kernel, ${d.label} ${r.engine}/${r.mode}: ${JSON.stringify(r.reason)}`);
      assert.ok(r.in_flight_iterations > 0);
      assert.ok(r.bytes_written <= 16 << 20);
    }
  }
});
