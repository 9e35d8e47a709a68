// Where the service's resident memory is, against the bare Fastify statfs server's: both servers of
// api-bench.ts (compiled, one process each), idle and near the end of a 50-connection load, their
// RSS split by /proc/PID/smaps (program text, the native addon, shared libraries, brk heap, anonymous
// mappings by kind) and V8's heap spaces (what V8 holds of the anonymous memory).
//
//   npx tsx test/bench/rss-breakdown.ts   (BENCH_SECONDS=10 RSS_ROLES="service statfs" RSS_CONNECTIONS=50
//                                          BENCH_SERVICE_V8_FLAGS= BENCH_SERVICE_ENV=: default the unit's Environment=)
//
// A diagnosis tool, not a goal check: api-bench.ts prints the ratio the issue sets.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildReady } from './api-bench-servers.js';
import type { V8Answer } from './rss-probe.js';
import { compileBenchScript } from './compile-bench-script.js';
import { ask } from './ipc-ask.js';
import { unitEnvironment } from './unit-environment.js';

const autocannon = createRequire(import.meta.url)('autocannon') as (
  opts: { url: string; connections: number; duration: number },
  cb: (err: Error | null, res: { requests: { average: number; total: number } }) => void,
) => unknown;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Load phases one after another, e.g. RSS_CONNECTIONS="200 50" (api-bench.ts's soak follows its 200-connection run). */
const CONNECTIONS = (process.env.RSS_CONNECTIONS ?? '50').split(' ').filter((w) => w !== '').map(Number);
const ROLES = (process.env.RSS_ROLES ?? 'service statfs').split(' ').filter((r) => r !== '');
/** V8 flags on top of the unit's NODE_OPTIONS (default none). */
const SERVICE_V8_FLAGS = (process.env.BENCH_SERVICE_V8_FLAGS ?? '').split(' ').filter((f) => f !== '');
/** As api-bench.ts: the unit's Environment= (NODE_OPTIONS, MALLOC_ARENA_MAX) unless BENCH_SERVICE_ENV replaces it ('' for none). */
const SERVICE_ENV: Record<string, string> =
  process.env.BENCH_SERVICE_ENV !== undefined
    ? Object.fromEntries(process.env.BENCH_SERVICE_ENV.split(' ').filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
    : unitEnvironment();

interface Mapping {
  name: string;
  sizeKb: number;
  rssKb: number;
}

/** /proc/PID/smaps as one entry per mapping: its name (path, [heap], or '' for anonymous), size and Rss. */
function smaps(pid: number): Mapping[] {
  const out: Mapping[] = [];
  let cur: Mapping | null = null;
  for (const l of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(l);
    if (head !== null) {
      cur = { name: head[1] ?? '', sizeKb: 0, rssKb: 0 };
      out.push(cur);
      continue;
    }
    const field = /^(Size|Rss):\s+(\d+) kB/.exec(l);
    if (field !== null && cur !== null) {
      if (field[1] === 'Size') cur.sizeKb = Number(field[2]);
      else cur.rssKb = Number(field[2]);
    }
  }
  return out;
}

/** Resident kB by kind of mapping. */
function classify(maps: Mapping[]): Record<string, number> {
  const by: Record<string, number> = {};
  const add = (k: string, kb: number) => (by[k] = (by[k] ?? 0) + kb);
  for (const m of maps) {
    if (m.name === process.execPath || m.name.endsWith('/node')) add('node binary', m.rssKb);
    else if (m.name.endsWith('.node')) add(`addon ${path.basename(m.name)}`, m.rssKb);
    else if (m.name.includes('.so')) add('shared libraries', m.rssKb);
    else if (m.name === '[heap]') add('brk heap (malloc main arena)', m.rssKb);
    else if (m.name === '[stack]') add('main stack', m.rssKb);
    else if (m.name.startsWith('[')) add(`other ${m.name}`, m.rssKb);
    else if (m.name !== '') add('other files', m.rssKb);
    // glibc arenas reserve 64 MiB (HEAP_MAX) per arena; thread stacks are 8 MiB + a guard page.
    else if (m.sizeKb === 8192 || m.sizeKb === 8188) add('anon 8 MiB (thread stacks)', m.rssKb);
    else add('anon other (V8 heap, malloc arenas, mmap allocations)', m.rssKb);
  }
  return by;
}

/** CPU time (user + system, all threads) the process used so far, in µs, from /proc/PID/stat. */
function cpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

const mb = (bytes: number) => (bytes / 1048576).toFixed(1);

function report(label: string, proc: ChildProcess, v8: V8Answer): void {
  const pid = proc.pid!;
  const maps = smaps(pid);
  const total = maps.reduce((s, m) => s + m.rssKb, 0);
  const threads = readdirSync(`/proc/${pid}/task`).length;
  const m = v8.memory;
  const v8Physical = v8.spaces.reduce((s, sp) => s + sp.physical, 0);
  console.log(`${label}: RSS ${mb(total * 1024)} MB (memoryUsage rss ${mb(m.rss)}), ${threads} threads`);
  console.log(`  memoryUsage: heapTotal ${mb(m.heapTotal)}, heapUsed ${mb(m.heapUsed)}, external ${mb(m.external)}, arrayBuffers ${mb(m.arrayBuffers)} MB`);
  console.log(
    `  V8 spaces resident (physical) ${mb(v8Physical)} MB: ${v8.spaces
      .filter((s) => s.physical > 0)
      .map((s) => `${s.name} ${mb(s.physical)}`)
      .join(', ')}`,
  );
  const by = classify(maps);
  for (const [k, kb] of Object.entries(by).sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(58)} ${mb(kb * 1024).padStart(6)} MB`);
  const anon = (by['anon other (V8 heap, malloc arenas, mmap allocations)'] ?? 0) * 1024 + (by['brk heap (malloc main arena)'] ?? 0) * 1024;
  console.log(`  anonymous + brk minus V8 heap (≈ malloc: native buffers, zlib/http parser/TLS, addon, ArrayBuffers): ${mb(anon - v8Physical)} MB`);
}

function startChild(script: string, role: string): Promise<{ proc: ChildProcess; ready: ChildReady }> {
  const proc = fork(script, [role], {
    execArgv: ['--expose-gc', ...(role === 'service' ? SERVICE_V8_FLAGS : [])],
    env: role === 'service' ? { ...process.env, ...SERVICE_ENV } : process.env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    proc.once('message', (m: ChildReady) => resolve({ proc, ready: m }));
    proc.once('exit', (code) => reject(new Error(`${role} server exited with ${code}`)));
  });
}

/** One load phase: RSS every second, the breakdown near its end, CPU and GC pauses per request. */
async function loadPhase(role: string, proc: ChildProcess, url: string, connections: number): Promise<void> {
  const gc0 = (await ask<V8Answer>(proc, { type: 'v8' }, 'v8')).gc;
  const cpu0 = cpuUs(proc.pid!);
  const done = new Promise<{ requests: { average: number; total: number } }>((resolve, reject) =>
    autocannon({ url, connections, duration: SECONDS }, (err, res) => (err ? reject(err) : resolve(res))),
  );
  // RSS follows the GC cycle: sampled every second, and the breakdown near the end.
  const samples: number[] = [];
  for (let t = 1; t < SECONDS - 1; t++) {
    await new Promise((r) => setTimeout(r, 1000));
    samples.push(rssKb(proc.pid!) * 1024);
  }
  await new Promise((r) => setTimeout(r, 1000));
  samples.sort((a, b) => a - b);
  console.log(`${role} RSS each second under ${connections}-connection load: median ${mb(samples[Math.floor(samples.length / 2)] ?? NaN)} MB, max ${mb(samples[samples.length - 1] ?? NaN)} MB`);
  const loaded = await ask<V8Answer>(proc, { type: 'v8' }, 'v8');
  report(`${role} under ${connections}-connection load`, proc, loaded);
  const r = await done;
  const n = Math.max(1, r.requests.total);
  const g = loaded.gc;
  console.log(
    `  ${r.requests.average.toFixed(0)} req/s, server CPU ${((cpuUs(proc.pid!) - cpu0) / n).toFixed(0)} µs/request; GC pauses ${(((g.youngMs - gc0.youngMs + g.fullMs - gc0.fullMs) * 1000) / n).toFixed(1)} µs/request (${g.young - gc0.young} scavenges, ${(g.youngMs - gc0.youngMs).toFixed(0)} ms; ${g.full - gc0.full} full, ${(g.fullMs - gc0.fullMs).toFixed(0)} ms)`,
  );
}

async function main(): Promise<void> {
  const outfile = await compileBenchScript(ROOT, 'rss-probe');
  console.log(
    `node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; service V8 flags: ${SERVICE_V8_FLAGS.join(' ') || '(none)'}, env: ${Object.entries(SERVICE_ENV).map(([k, v]) => `${k}=${v}`).join(' ') || '(none)'}`,
  );
  const children: Record<string, { proc: ChildProcess; ready: ChildReady }> = {};
  for (const role of ROLES) children[role] = await startChild(outfile, role);
  const decisionPath = children.service?.ready.path ?? '/var/tmp/x';
  for (const role of ROLES) {
    const c = children[role]!;
    await new Promise((r) => setTimeout(r, 1000));
    report(`${role} idle`, c.proc, await ask<V8Answer>(c.proc, { type: 'v8' }, 'v8'));
    const gcd = await ask<{ heap: number; rss: number }>(c.proc, { type: 'mem', gc: true }, 'mem');
    console.log(`${role} idle after a full GC: heap used (live) ${mb(gcd.heap)} MB, RSS ${mb(gcd.rss)} MB`);
  }
  for (const role of ROLES) {
    const c = children[role]!;
    const url =
      role === 'service'
        ? `http://127.0.0.1:${c.ready.port}/v1/decision?path=${encodeURIComponent(decisionPath)}&aio=native&selftest=never`
        : role === 'statfs'
          ? `http://127.0.0.1:${c.ready.port}/statfs?path=${encodeURIComponent(decisionPath)}`
          : `http://127.0.0.1:${c.ready.port}/constant`;
    for (const connections of CONNECTIONS) await loadPhase(role, c.proc, url, connections);
    const gcd = await ask<{ heap: number; rss: number }>(c.proc, { type: 'mem', gc: true }, 'mem');
    console.log(`${role} after the load and a full GC: heap used (live) ${mb(gcd.heap)} MB, RSS ${mb(gcd.rss)} MB`);
  }
  for (const c of Object.values(children)) {
    c.proc.send({ type: 'stop' });
    await new Promise((resolve) => c.proc.once('exit', resolve));
  }
}

await main();
