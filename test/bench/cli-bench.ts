// How fast `xfsguard check --selftest never` answers from a warm cache, against a bare `node -e 0`
// start measured in the same run: wall time over alternating pairs (median), peak RSS (GNU time's %M,
// when /usr/bin/time exists) and CPU time (user+sys, mean, from /proc/self/stat's children times:
// less disturbed by other load than wall time). Twice: without a policy file (unless
// /etc/xfsguard/policy.json exists) and with one (a temporary file, as `install` writes one).
// Prints numbers and the load average; asserts nothing (this machine is shared).
//   npm run bench:cli -- [PATH] [--runs N]        goal (issue 11): wall <= 1.5x, peak RSS <= 1.3x
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CLI } from '../helpers/run-cli.js';

const { values, positionals } = parseArgs({ options: { runs: { type: 'string', default: '21' } }, allowPositionals: true });
const target = path.resolve(positionals[0] ?? process.cwd());
const runs = Number(values.runs);
const work = mkdtempSync(path.join('/var/tmp', 'xfsguard-bench-'));
const baselineArgs = ['-e', '0'];
const checkArgs = [CLI, 'check', '--selftest', 'never', target];

/** CPU time (ms) of this process's waited-for children so far: cutime + cstime. */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // after "pid (comm) ": state is field 3, cutime 16 and cstime 17 (1-based) -> indexes 13 and 14 here
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
}

interface Sample { wall: number[]; cpu: number; rss: number[] }

function wall(args: string[], env: NodeJS.ProcessEnv, into: Sample): void {
  const cpu0 = childrenCpuMs();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: 'ignore' });
  into.wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
  into.cpu += childrenCpuMs() - cpu0;
  if (r.status === null || r.status === 1 || r.status === 2) throw new Error(`${args.join(' ')} failed: ${r.status}`);
}

/** Peak RSS in KB by GNU time, or NaN without it. */
function peakRss(args: string[], env: NodeJS.ProcessEnv): number {
  if (!existsSync('/usr/bin/time')) return NaN;
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  return Number(r.stderr.trim().split('\n').pop());
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN;
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

function bench(label: string, extraEnv: NodeJS.ProcessEnv): void {
  const state = mkdtempSync(path.join(work, 'state-'));
  const env = { ...process.env, ...extraEnv, XFSGUARD_STATE_DIR: state };
  // Warm the cache (runs the self-test once when PATH is on XFS; stores the QEMU versions).
  spawnSync(process.execPath, [CLI, 'check', target], { env, stdio: 'ignore' });
  const base: Sample = { wall: [], cpu: 0, rss: [] };
  const check: Sample = { wall: [], cpu: 0, rss: [] };
  const loadBefore = load();
  for (let i = 0; i < runs; i++) {
    wall(baselineArgs, env, base);
    wall(checkArgs, env, check);
  }
  for (let i = 0; i < 5; i++) {
    base.rss.push(peakRss(baselineArgs, env));
    check.rss.push(peakRss(checkArgs, env));
  }
  const ratio = median(check.wall) / median(base.wall);
  const cpuRatio = check.cpu / base.cpu;
  const rssRatio = median(check.rss) / median(base.rss);
  console.log(`\n${label}: ${runs} alternating pairs, path ${target}, load average ${loadBefore} -> ${load()}`);
  console.log(`node -e 0                       median ${median(base.wall).toFixed(1)} ms  cpu ${(base.cpu / runs).toFixed(1)} ms  peak RSS ${(median(base.rss) / 1024).toFixed(1)} MB`);
  console.log(`xfsguard check --selftest never median ${median(check.wall).toFixed(1)} ms  cpu ${(check.cpu / runs).toFixed(1)} ms  peak RSS ${(median(check.rss) / 1024).toFixed(1)} MB`);
  console.log(`wall ratio ${ratio.toFixed(2)} (goal <= 1.5) ${ratio <= 1.5 ? 'OK' : 'MISSED'}; peak RSS ratio ${rssRatio.toFixed(2)} (goal <= 1.3) ${rssRatio <= 1.3 ? 'OK' : 'MISSED'}; cpu ratio ${cpuRatio.toFixed(2)}`);
}

try {
  // an undefined variable is left out of the child's environment
  bench(existsSync('/etc/xfsguard/policy.json') ? 'with /etc/xfsguard/policy.json' : 'without a policy file', { XFSGUARD_POLICY: undefined });
  const policy = path.join(work, 'policy.json');
  writeFileSync(policy, `${JSON.stringify({ mode: 'conservative', allowed_roots: ['/var/lib/libvirt/images', target], overrides: [] }, null, 2)}\n`);
  bench('with a policy file', { XFSGUARD_POLICY: policy });
} finally {
  rmSync(work, { recursive: true, force: true });
}
