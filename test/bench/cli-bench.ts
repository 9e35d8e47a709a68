// How fast `xfsguard check` answers from a warm cache, against a bare `node -e 0` start measured in
// the same run. Prints numbers; asserts nothing (this machine is shared and noisy).
//   npx tsx test/bench/cli-bench.ts [PATH] [--runs N]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CLI } from '../helpers/run-cli.js';

const { values, positionals } = parseArgs({ options: { runs: { type: 'string', default: '30' } }, allowPositionals: true });
const target = positionals[0] ?? process.cwd();
const runs = Number(values.runs);
const state = mkdtempSync(path.join('/var/tmp', 'xfsguard-bench-'));
const env = { ...process.env, XFSGUARD_STATE_DIR: state };

function time(args: string[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { env, stdio: 'ignore' });
    if (r.status === null || r.status === 1 || r.status === 2) throw new Error(`${args.join(' ')} failed: ${r.status}`);
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out.sort((a, b) => a - b);
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
// Warm the cache (runs the self-test once when PATH is on XFS).
spawnSync(process.execPath, [CLI, 'check', target], { env, stdio: 'inherit' });
const baseline = time(['-e', '0']);
const check = time([CLI, 'check', '--json', target]);
rmSync(state, { recursive: true, force: true });
console.log(`runs: ${runs}, path: ${target}`);
console.log(`node -e 0          median ${pct(baseline, 50).toFixed(1)} ms  p90 ${pct(baseline, 90).toFixed(1)} ms`);
console.log(`xfsguard check     median ${pct(check, 50).toFixed(1)} ms  p90 ${pct(check, 90).toFixed(1)} ms`);
console.log(`xfsguard's own share (median): ${(pct(check, 50) - pct(baseline, 50)).toFixed(1)} ms; ratio to bare node ${(pct(check, 50) / pct(baseline, 50)).toFixed(2)}`);
