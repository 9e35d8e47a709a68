// Guest-side (and host-side) driver: runs runRace for every engine × mode on one directory and
// prints one JSON line: {"label", "kernel", "results": RaceResult[]}.
//   node --import tsx test/vm/race-driver.ts --dir /mnt/xfs [--label virtio] [--budget-ms 3000]
//     [--max-bytes 16777216] [--iterations 1000000] [--window auto|beyond_eof|eof_prealloc]
//     [--all] [--repeat N] [--engines aio,io_uring] [--modes zero-range,alloc]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadNative } from '../../native/index.js';
import type { Engine, FallocMode, RaceOptions, RaceResult } from '../../native/types.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    label: { type: 'string', default: '' },
    'budget-ms': { type: 'string', default: '3000' },
    'max-bytes': { type: 'string', default: String(16 << 20) },
    iterations: { type: 'string', default: '1000000' },
    window: { type: 'string', default: 'auto' },
    all: { type: 'boolean', default: false },
    repeat: { type: 'string', default: '1' },
    engines: { type: 'string', default: 'aio,io_uring' },
    modes: { type: 'string', default: 'zero-range,alloc' },
  },
});
if (!values.dir) {
  console.error('race-driver: --dir is required');
  process.exit(2);
}
const native = loadNative();
const results: (RaceResult & { run: number })[] = [];
const repeat = Number(values.repeat);
for (let run = 0; run < repeat; run++) {
  for (const engine of values.engines.split(',') as Engine[]) {
    for (const mode of values.modes.split(',') as FallocMode[]) {
      const opts = {
        directory: values.dir,
        engine,
        mode,
        max_iterations: Number(values.iterations),
        budget_ms: Number(values['budget-ms']),
        max_bytes: Number(values['max-bytes']),
        window: values.window as RaceOptions['window'],
        stop_on_first: !values.all,
      };
      results.push({ run, ...(await native.runRace(opts)) });
    }
  }
}
const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
console.log(JSON.stringify({ label: values.label, kernel, results }));
