// Guest-side (and host-side) driver: runs runRace for every engine × mode on one or more
// directories and prints ONE JSON document:
//   {"kernel": "...", "devices": [{"label", "dir", "latency_us": {"write_4k", "write_1m"} | null,
//                                  "results": RaceResult[] (with "run"), "error"?: string}]}
//   node --import tsx test/vm/race-driver.ts --dir virtio=/mnt/xfs [--dir fast=/tmp/fast]
//     [--fast-loop fast]   (make an XFS on a loop device backed by /tmp — tmpfs in the VM — and add it)
//     [--budget-ms 3000] [--max-bytes 16777216] [--iterations 1000000]
//     [--window auto|beyond_eof|eof_prealloc[,...]] [--all] [--repeat N]
//     [--engines aio,io_uring] [--modes zero-range,alloc] [--latency]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadNative } from '../../native/index.js';
import type { Engine, FallocMode, RaceOptions, RaceResult } from '../../native/types.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', multiple: true, default: [] },
    'fast-loop': { type: 'string' },
    'budget-ms': { type: 'string', default: '3000' },
    'max-bytes': { type: 'string', default: String(16 << 20) },
    iterations: { type: 'string', default: '1000000' },
    window: { type: 'string', default: 'auto' },
    all: { type: 'boolean', default: false },
    repeat: { type: 'string', default: '1' },
    engines: { type: 'string', default: 'aio,io_uring' },
    modes: { type: 'string', default: 'zero-range,alloc' },
    latency: { type: 'boolean', default: false },
  },
});

interface Device {
  label: string;
  dir: string;
  latency_us: { write_4k: number | null; write_1m: number | null } | null;
  results: (RaceResult & { run: number })[];
  error?: string;
}

/** Average O_DIRECT overwrite latency (µs) with dd: bs, count. Includes syscall overhead. */
function ddLatency(dir: string, bs: string, count: number): number | null {
  const f = `${dir}/.xfsguard-latency`;
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${f}`, `bs=${bs}`, `count=${count}`, 'oflag=direct', 'status=none']);
    const t0 = process.hrtime.bigint();
    execFileSync('dd', ['if=/dev/zero', `of=${f}`, `bs=${bs}`, `count=${count}`, 'oflag=direct', 'conv=notrunc', 'status=none']);
    const t1 = process.hrtime.bigint();
    return Math.round(Number(t1 - t0) / 1000 / count);
  } catch {
    return null;
  } finally {
    rmSync(f, { force: true });
  }
}

function makeFastLoop(): string {
  const img = '/tmp/xfsguard-fast.img';
  const mnt = '/tmp/fast';
  execFileSync('truncate', ['-s', '512M', img]);
  execFileSync('mkfs.xfs', ['-q', '-f', img]);
  mkdirSync(mnt, { recursive: true });
  execFileSync('mount', ['-o', 'loop', img, mnt]);
  return mnt;
}

const targets: { label: string; dir: string }[] = values.dir.map((d) => {
  const i = d.indexOf('=');
  return i > 0 ? { label: d.slice(0, i), dir: d.slice(i + 1) } : { label: d, dir: d };
});
const devices: Device[] = [];
if (values['fast-loop']) {
  try {
    targets.push({ label: values['fast-loop'], dir: makeFastLoop() });
  } catch (err) {
    devices.push({ label: values['fast-loop'], dir: '', latency_us: null, results: [], error: `no loop-on-tmpfs XFS: ${String(err)}` });
  }
}
if (targets.length === 0 && devices.length === 0) {
  console.error('race-driver: give --dir LABEL=PATH and/or --fast-loop LABEL');
  process.exit(2);
}

const native = loadNative();
const repeat = Number(values.repeat);
for (const { label, dir } of targets) {
  const dev: Device = { label, dir, latency_us: null, results: [] };
  if (values.latency) dev.latency_us = { write_4k: ddLatency(dir, '4k', 256), write_1m: ddLatency(dir, '1M', 16) };
  try {
    for (let run = 0; run < repeat; run++) {
      for (const window of values.window.split(',') as NonNullable<RaceOptions['window']>[]) {
        for (const engine of values.engines.split(',') as Engine[]) {
          for (const mode of values.modes.split(',') as FallocMode[]) {
            const opts: RaceOptions = {
              directory: dir,
              engine,
              mode,
              max_iterations: Number(values.iterations),
              budget_ms: Number(values['budget-ms']),
              max_bytes: Number(values['max-bytes']),
              window,
              stop_on_first: !values.all,
            };
            dev.results.push({ run, ...(await native.runRace(opts)) });
          }
        }
      }
    }
  } catch (err) {
    dev.error = String(err);
  }
  devices.push(dev);
}
if (values['fast-loop']) spawnSync('umount', ['/tmp/fast']);
const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
console.log(JSON.stringify({ kernel, devices }));
