// Benchmark of GET /v1/decision on loopback against two bare Fastify servers measured in the same
// run: a route doing only the statfs a decision does (the goal's baseline) and a constant route.
// Every server runs compiled (esbuild, plain node, no tsx) in a process of its own, so the load
// generator's CPU and memory are not counted. Also: /livez latency while 200 connections ask for
// decisions, and the service's RSS against the bare statfs server's under the same load, sampled
// every 15 s through a soak.
//
//   npm run bench:api    (BENCH_SECONDS=5 BENCH_ROUNDS=3 BENCH_SOAK_REQUESTS=1000000 BENCH_SOAK_MAX_SECONDS=150
//                        BENCH_PROFILE_DIR= BENCH_SERVICE_V8_FLAGS= BENCH_SERVICE_ENV=)
//
// Goals (issue 11): decision >= 0.7x the statfs route's req/s, p99 <= 2x its p99; service RSS
// <= 1.3x the bare server's, no growth over the soak. Issue 8.7: /livez within 100 ms at 200
// connections.
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildReady, LoopStats, ProbeTimes } from './api-bench-servers.js';
import { compileBenchScript } from './compile-bench-script.js';
import { ask } from './ipc-ask.js';
import { unitEnvironment } from './unit-environment.js';

// autocannon ships no types (and @types/autocannon is not a dependency): the little used here.
interface AcOptions {
  url: string;
  connections: number;
  duration?: number;
  amount?: number;
}
interface AcHistogram {
  average: number;
  total: number;
  p50: number;
  p90: number;
  p99: number;
  p99_9: number;
  max: number;
}
interface AcResult {
  requests: AcHistogram;
  latency: AcHistogram;
  duration: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}
interface AcInstance {
  stop(): void;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (opts: AcOptions, cb: (err: Error | null, res: AcResult) => void) => AcInstance;

const CONNECTIONS = 50;
const LIVEZ_CONNECTIONS = 200;
const LIVEZ_GOAL_MS = 100;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/** Timed runs per server, alternating between servers: medians are reported (a shared machine is noisy). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_SECONDS = 3;
const SOAK_REQUESTS = Number(process.env.BENCH_SOAK_REQUESTS ?? 1_000_000);
const SOAK_MAX_SECONDS = Number(process.env.BENCH_SOAK_MAX_SECONDS ?? 150);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

type Role = 'service' | 'statfs' | 'constant';

interface Mem {
  rss: number;
  heap: number;
  heapTotal: number;
  external: number;
  /** CPU time the server process used so far, all threads (µs). */
  cpuUs: number;
}

/** Compiles the servers file (our code bundled, packages from node_modules) into dist/bench/. */
function compileServers(): Promise<string> {
  return compileBenchScript(ROOT, 'api-bench-servers');
}

function run(opts: AcOptions): { result: Promise<AcResult>; instance: AcInstance } {
  let instance!: AcInstance;
  const result = new Promise<AcResult>((resolve, reject) => {
    instance = autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
  });
  return { result, instance };
}

const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;

function line(name: string, r: AcResult): string {
  const l = r.latency;
  return `${name.padEnd(9)} ${r.requests.average.toFixed(0).padStart(7)} req/s   latency p50 ${l.p50} ms  p90 ${l.p90} ms  p99 ${l.p99} ms  p99.9 ${l.p99_9} ms  max ${l.max} ms   non-2xx ${r.non2xx}  errors ${r.errors}  timeouts ${r.timeouts}`;
}

/** V8 flags for the service on top of the unit's NODE_OPTIONS (SERVICE_ENV), to try others (default none). */
const SERVICE_V8_FLAGS = (process.env.BENCH_SERVICE_V8_FLAGS ?? '').split(' ').filter((f) => f !== '');

/**
 * The service's environment: the unit's Environment= (its NODE_OPTIONS V8 heap flags, MALLOC_ARENA_MAX),
 * as it ships (issue 11.3); BENCH_SERVICE_ENV="VAR=value ..." replaces it ('' for none). Bare servers: none.
 */
const SERVICE_ENV: Record<string, string> =
  process.env.BENCH_SERVICE_ENV !== undefined
    ? Object.fromEntries(process.env.BENCH_SERVICE_ENV.split(' ').filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
    : unitEnvironment();
const SERVICE_ENV_FROM = process.env.BENCH_SERVICE_ENV !== undefined ? 'BENCH_SERVICE_ENV' : "the unit's Environment=";

function startChild(script: string, role: Role): Promise<{ proc: ChildProcess; ready: ChildReady }> {
  const proc = fork(script, [role], {
    // BENCH_PROFILE_DIR=DIR writes a CPU profile of each server there, to see where its time goes.
    execArgv: [
      '--expose-gc',
      ...(role === 'service' ? SERVICE_V8_FLAGS : []),
      ...(process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : []),
    ],
    env: role === 'service' ? { ...process.env, ...SERVICE_ENV } : process.env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    proc.once('message', (m: ChildReady) => resolve({ proc, ready: m }));
    proc.once('exit', (code) => reject(new Error(`bench ${role} server exited with ${code}`)));
  });
}

const memLine = (m: Mem) => `RSS ${mb(m.rss)} (heap used ${mb(m.heap)} of ${mb(m.heapTotal)}, external ${mb(m.external)})`;

interface Timed {
  r: AcResult;
  mem: Mem;
  /** Server CPU time per request (µs): steadier than req/s when other work shares the CPUs. */
  cpuPerReq: number;
}

/** A timed run; the server's memory is read near its end, under the load (no forced GC). */
async function timed(url: string, proc: ChildProcess, connections = CONNECTIONS): Promise<Timed> {
  const start = await ask<Mem>(proc, { type: 'mem' }, 'mem');
  const pending = run({ url, connections, duration: SECONDS });
  const mem = await new Promise<Mem>((resolve) => setTimeout(() => void ask<Mem>(proc, { type: 'mem' }, 'mem').then(resolve), (SECONDS - 1) * 1000));
  const r = await pending.result;
  const end = await ask<Mem>(proc, { type: 'mem' }, 'mem');
  return { r, mem, cpuPerReq: (end.cpuUs - start.cpuUs) / Math.max(1, r.requests.total) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

/** The run with the median req/s, with the median p99 and CPU per request of all rounds. */
function summary(runs: Timed[]): Timed & { p99: number; rps: number } {
  const byRps = [...runs].sort((a, b) => a.r.requests.average - b.r.requests.average);
  const mid = byRps[Math.floor((byRps.length - 1) / 2)]!;
  return { ...mid, rps: mid.r.requests.average, p99: median(runs.map((t) => t.r.latency.p99)), cpuPerReq: median(runs.map((t) => t.cpuPerReq)) };
}

/** The /livez probe (api-bench-servers.ts, role probe): a process of its own, every 50 ms, until the load ends. */
async function probeLivez(script: string, port: number, until: Promise<unknown>): Promise<{ times: number[]; failures: number }> {
  const proc = fork(script, ['probe', String(port), '50'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((resolve) => proc.once('message', resolve));
  await until;
  const got = await ask<ProbeTimes>(proc, { type: 'stop' }, 'probes');
  return { times: got.times, failures: got.failures };
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

async function parent(): Promise<void> {
  const script = await compileServers();
  const service = await startChild(script, 'service');
  const statfsChild = await startChild(script, 'statfs');
  const constChild = await startChild(script, 'constant');
  const children = { service, statfs: statfsChild, constant: constChild };
  const urls = {
    service: `http://127.0.0.1:${service.ready.port}/v1/decision?path=${encodeURIComponent(service.ready.path)}&aio=native&selftest=never`,
    statfs: `http://127.0.0.1:${statfsChild.ready.port}/statfs?path=${encodeURIComponent(service.ready.path)}`,
    constant: `http://127.0.0.1:${constChild.ready.port}/constant`,
  };
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)}, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s per server (after ${WARMUP_SECONDS} s warm-up); servers compiled, one process each`);
  console.log(`decision: ${urls.service}; service V8 flags: ${SERVICE_V8_FLAGS.join(' ') || '(none)'}, env: ${Object.entries(SERVICE_ENV).map(([k, v]) => `${k}=${v}`).join(' ') || '(none)'} (${SERVICE_ENV_FROM}; bare servers: none)`);
  for (const role of ['service', 'statfs', 'constant'] as const) {
    console.log(`${role.padEnd(8)} idle after start-up: ${memLine(await ask<Mem>(children[role].proc, { type: 'mem', gc: true }, 'mem'))}`);
  }

  for (const role of ['constant', 'statfs', 'service'] as const) await run({ url: urls[role], connections: CONNECTIONS, duration: WARMUP_SECONDS }).result;
  const rounds: Record<'constant' | 'statfs' | 'service', Timed[]> = { constant: [], statfs: [], service: [] };
  for (let i = 0; i < ROUNDS; i++) {
    for (const role of ['constant', 'statfs', 'service'] as const) {
      const t = await timed(urls[role], children[role].proc);
      rounds[role].push(t);
      console.log(`round ${i + 1} ${line(role, t.r)}  cpu/req ${t.cpuPerReq.toFixed(0)} µs`);
    }
  }
  const constant = summary(rounds.constant);
  const statfs = summary(rounds.statfs);
  const decision = summary(rounds.service);
  console.log(`medians of ${ROUNDS} rounds:`);
  for (const [name, t] of [['constant', constant], ['statfs', statfs], ['decision', decision]] as const) {
    console.log(`  ${name.padEnd(9)} ${t.rps.toFixed(0).padStart(7)} req/s  p99 ${t.p99} ms  server cpu/req ${t.cpuPerReq.toFixed(0)} µs`);
  }
  const ratio = decision.rps / statfs.rps;
  const p99Ratio = decision.p99 / statfs.p99;
  console.log(
    `ratio decision/statfs: ${ratio.toFixed(3)} (goal >= 0.7) ${ratio >= 0.7 ? 'OK' : 'MISSED'}; by server CPU per request ${(statfs.cpuPerReq / decision.cpuPerReq).toFixed(3)}; decision/constant ${(decision.rps / constant.rps).toFixed(3)}`,
  );
  console.log(`p99 decision/statfs: ${decision.p99} / ${statfs.p99} ms = ${p99Ratio.toFixed(2)} (goal <= 2) ${p99Ratio <= 2 ? 'OK' : 'MISSED'}`);
  const rssRatio = decision.mem.rss / statfs.mem.rss;
  console.log(`RSS under load: service ${mb(decision.mem.rss)}, bare statfs server ${mb(statfs.mem.rss)}, constant ${mb(constant.mem.rss)}; service/statfs ${rssRatio.toFixed(2)} (goal <= 1.3) ${rssRatio <= 1.3 ? 'OK' : 'MISSED'}`);

  // Soak: the service's RSS every 15 s against the bare statfs server's under the same load (50
  // connections, right after the rounds, as the bare server's sample: before the 200-connection run,
  // which grows any server's young generation).
  const before = await ask<Mem>(service.proc, { type: 'mem', gc: true }, 'mem');
  console.log(`soak: ${SOAK_REQUESTS} decision requests, at most ${SOAK_MAX_SECONDS} s; before: ${memLine(before)}`);
  const soak = run({ url: urls.service, connections: CONNECTIONS, amount: SOAK_REQUESTS, duration: SOAK_MAX_SECONDS * 2 });
  let capped = false;
  const cap = setTimeout(() => {
    capped = true;
    soak.instance.stop();
  }, SOAK_MAX_SECONDS * 1000);
  const samples: number[] = [];
  const sampler = setInterval(() => {
    void ask<Mem>(service.proc, { type: 'mem' }, 'mem').then((m) => samples.push(m.rss));
  }, 15_000);
  const soaked = await soak.result;
  clearTimeout(cap);
  clearInterval(sampler);
  const after = await ask<Mem>(service.proc, { type: 'mem', gc: true }, 'mem');
  console.log(
    `soak: ${soaked.requests.total} requests${capped ? ` (capped at ${SOAK_MAX_SECONDS} s)` : ''} in ${soaked.duration.toFixed(1)} s, ${soaked.requests.average.toFixed(0)} req/s, p99 ${soaked.latency.p99} ms, non-2xx ${soaked.non2xx}, errors ${soaked.errors}`,
  );
  console.log(`soak: service RSS every 15 s: ${samples.map((s) => `${mb(s)} (${(s / statfs.mem.rss).toFixed(2)}x)`).join(', ') || '(none)'}; bare statfs server under load: ${mb(statfs.mem.rss)}`);
  const growth = after.rss - before.rss;
  const peak = Math.max(...samples, after.rss);
  console.log(
    `soak: after (GC): ${memLine(after)}; RSS growth ${mb(growth)}, heap growth ${mb(after.heap - before.heap)}; peak/bare ${(peak / statfs.mem.rss).toFixed(2)} (goal <= 1.3, no growth) ${peak <= 1.3 * statfs.mem.rss && after.heap - before.heap < 4 * 1048576 ? 'OK' : 'MISSED'}`,
  );

  // Issue 8.7: health probes answered while 200 connections ask for decisions; and what held the
  // service's event loop meanwhile (its delay, GC pauses), to tell what delays a probe.
  await ask<LoopStats>(service.proc, { type: 'loop' }, 'loop');
  const heavy = run({ url: urls.service, connections: LIVEZ_CONNECTIONS, duration: SECONDS });
  const livez = await probeLivez(script, service.ready.port, heavy.result);
  const loaded = await heavy.result;
  const loop = await ask<LoopStats>(service.proc, { type: 'loop' }, 'loop');
  console.log(line(`decision@${LIVEZ_CONNECTIONS}`, loaded));
  const sorted = [...livez.times].sort((a, b) => a - b);
  const worst = sorted[sorted.length - 1] ?? NaN;
  const over = sorted.filter((t) => t > LIVEZ_GOAL_MS).length;
  console.log(
    `/livez during ${LIVEZ_CONNECTIONS} connections (probe process of its own, every 50 ms): ${sorted.length} probes, p50 ${pct(sorted, 50).toFixed(1)} ms, p99 ${pct(sorted, 99).toFixed(1)} ms, max ${worst.toFixed(1)} ms, over ${LIVEZ_GOAL_MS} ms: ${over}, failed ${livez.failures} (goal: every probe <= ${LIVEZ_GOAL_MS} ms) ${sorted.length === 0 ? 'NOT MEASURED (no probe answered: run longer)' : livez.failures === 0 && over === 0 ? 'OK' : 'MISSED'}`,
  );
  console.log(
    `service event loop meanwhile: delay p50 ${loop.delayP50.toFixed(1)} ms, p99 ${loop.delayP99.toFixed(1)} ms, max ${loop.delayMax.toFixed(1)} ms; GC ${loop.gcCount} pauses, ${loop.gcTotalMs.toFixed(0)} ms in all, longest ${loop.gcMaxMs.toFixed(1)} ms${loop.gcLong.length > 0 ? `, over 20 ms: ${loop.gcLong.map(([k, d]) => `kind ${k} ${d.toFixed(0)} ms`).join(', ')}` : ''}`,
  );

  for (const c of Object.values(children)) {
    c.proc.send({ type: 'stop' });
    await new Promise((resolve) => c.proc.once('exit', resolve));
  }
}

await parent();
