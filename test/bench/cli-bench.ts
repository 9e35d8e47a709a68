// How fast `xfsguard check --selftest never` answers from a warm cache, against a bare `node -e 0`
// start measured in the same run: wall time over alternating pairs (median), and peak RSS (GNU
// time's %M, when /usr/bin/time exists). Prints numbers; asserts nothing (this machine is shared).
//   npm run bench:cli -- [PATH] [--runs N]        goal (issue 11): wall <= 1.5x, peak RSS <= 1.3x
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CLI } from '../helpers/run-cli.js';

const { values, positionals } = parseArgs({ options: { runs: { type: 'string', default: '15' } }, allowPositionals: true });
const target = positionals[0] ?? process.cwd();
const runs = Number(values.runs);
const state = mkdtempSync(path.join('/var/tmp', 'xfsguard-bench-'));
const env = { ...process.env, XFSGUARD_STATE_DIR: state };
const baselineArgs = ['-e', '0'];
const checkArgs = [CLI, 'check', '--selftest', 'never', target];

function wall(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: 'ignore' });
  if (r.status === null || r.status === 1 || r.status === 2) throw new Error(`${args.join(' ')} failed: ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Peak RSS in KB by GNU time, or NaN without it. */
function peakRss(args: string[]): number {
  if (!existsSync('/usr/bin/time')) return NaN;
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  return Number(r.stderr.trim().split('\n').pop());
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN;
// Warm the cache (runs the self-test once when PATH is on XFS).
spawnSync(process.execPath, [CLI, 'check', target], { env, stdio: 'inherit' });
const base: number[] = [];
const check: number[] = [];
const baseRss: number[] = [];
const checkRss: number[] = [];
for (let i = 0; i < runs; i++) {
  base.push(wall(baselineArgs));
  check.push(wall(checkArgs));
}
for (let i = 0; i < 5; i++) {
  baseRss.push(peakRss(baselineArgs));
  checkRss.push(peakRss(checkArgs));
}
rmSync(state, { recursive: true, force: true });
const ratio = median(check) / median(base);
const rssRatio = median(checkRss) / median(baseRss);
console.log(`${runs} alternating pairs, path: ${target}`);
console.log(`node -e 0                       median ${median(base).toFixed(1)} ms  peak RSS ${(median(baseRss) / 1024).toFixed(1)} MB`);
console.log(`xfsguard check --selftest never median ${median(check).toFixed(1)} ms  peak RSS ${(median(checkRss) / 1024).toFixed(1)} MB`);
console.log(`wall ratio ${ratio.toFixed(2)} (goal <= 1.5) ${ratio <= 1.5 ? 'OK' : 'MISSED'}; peak RSS ratio ${rssRatio.toFixed(2)} (goal <= 1.3) ${rssRatio <= 1.3 ? 'OK' : 'MISSED'}`);
