// Benchmark of GET /v1/decision against a bare Fastify route returning a constant, on loopback,
// with autocannon's programmatic API. The servers run in a child process (so the load generator's
// CPU and memory are not counted), both started in this run.
//
//   npm run bench:api                     (BENCH_SECONDS=10 BENCH_SOAK_REQUESTS=1000000 BENCH_SOAK_MAX_SECONDS=150 BENCH_PROFILE_DIR=)
//
// Goals: decision/bare ratio >= 0.7, decision p99 <= 5 ms, server RSS <= 120 MB without growth
// over the soak.
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 3;
const SOAK_REQUESTS = Number(process.env.BENCH_SOAK_REQUESTS ?? 1_000_000);
const SOAK_MAX_SECONDS = Number(process.env.BENCH_SOAK_MAX_SECONDS ?? 150);

interface ChildReady {
  type: 'ready';
  port: number;
  path: string;
}

interface Mem {
  rss: number;
  heap: number;
  heapTotal: number;
  external: number;
}

// ------------------------------------------------------------------ child: the servers

async function childService(): Promise<void> {
  const [{ startServer }, { loadKnowledgeBase }, { defaultPolicy }] = await Promise.all([
    import('../../service/http/server.js'),
    import('../../policies/knowledge-base.js'),
    import('../../policies/operator-policy.js'),
  ]);
  const base = mkdtempSync(path.join('/var/tmp', 'xfsguard-bench-'));
  const root = path.join(base, 'images');
  mkdirSync(root);
  writeFileSync(path.join(root, 'vm.qcow2'), '');
  const server = await startServer({
    policy: { ...defaultPolicy(), allowed_roots: [root], source: 'bench' },
    knowledgeBase: loadKnowledgeBase(),
    stateDir: path.join(base, 'state'),
    socketPath: null,
    tcp: { host: '127.0.0.1', port: 0 },
    // The decision log is part of the cost: JSON lines at info, to a file.
    logger: { level: 'info', file: path.join(base, 'service.log') },
    hostFacts: () => Promise.resolve({ hostname: null, arch: process.arch, platform: process.platform, distro: null, note: 'bench' }),
  });
  serveControl(() => server.close().then(() => rmSync(base, { recursive: true, force: true })), {
    type: 'ready', port: server.port!, path: path.join(root, 'vm.qcow2'),
  });
}

async function childBare(): Promise<void> {
  const { default: Fastify } = await import('fastify');
  const bare = Fastify({ logger: false });
  bare.get('/constant', () => ({ ok: true }));
  await bare.listen({ host: '127.0.0.1', port: 0 });
  const addr = bare.server.address();
  serveControl(() => bare.close(), { type: 'ready', port: typeof addr === 'object' && addr !== null ? addr.port : 0, path: '' });
}

/** Answers the parent's memory questions and stop request over IPC. */
function serveControl(stop: () => Promise<unknown>, ready: ChildReady): void {
  process.on('message', (msg: { type: string }) => {
    if (msg.type === 'mem') {
      globalThis.gc?.();
      const m = process.memoryUsage();
      process.send!({ type: 'mem', rss: m.rss, heap: m.heapUsed, heapTotal: m.heapTotal, external: m.external });
    } else if (msg.type === 'stop') {
      void stop().then(() => process.exit(0));
    }
  });
  process.send!(ready);
}

// ------------------------------------------------------------------ parent: the load

function ask<T>(proc: ChildProcess, msg: object, type: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { type: string }) => {
      if (m.type === type) {
        proc.off('message', on);
        resolve(m as T);
      }
    };
    proc.on('message', on);
    proc.send(msg);
  });
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

function startChild(role: 'service' | 'bare'): Promise<{ proc: ChildProcess; ready: ChildReady }> {
  const proc = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, XFSGUARD_BENCH_CHILD: role },
    // BENCH_PROFILE_DIR=DIR writes a CPU profile of each server there, to see where its time goes.
    execArgv: ['--import', 'tsx', '--expose-gc', ...(process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    proc.once('message', (m: ChildReady) => resolve({ proc, ready: m }));
    proc.once('exit', (code) => reject(new Error(`bench ${role} server exited with ${code}`)));
  });
}

const memLine = (m: Mem) => `RSS ${mb(m.rss)} (heap used ${mb(m.heap)} of ${mb(m.heapTotal)}, external ${mb(m.external)})`;

async function parent(): Promise<void> {
  const [service, bareChild] = await Promise.all([startChild('service'), startChild('bare')]);
  const proc = service.proc;
  const decisionUrl = `http://127.0.0.1:${service.ready.port}/v1/decision?path=${encodeURIComponent(service.ready.path)}&aio=native&selftest=never`;
  const bareUrl = `http://127.0.0.1:${bareChild.ready.port}/constant`;
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, ${CONNECTIONS} connections, ${SECONDS} s per run (after ${WARMUP_SECONDS} s warm-up); servers run under tsx, one process each`);
  console.log(`decision: ${decisionUrl}`);
  const idle = await ask<Mem>(proc, { type: 'mem' }, 'mem');
  console.log(`service idle after start-up: ${memLine(idle)}`);

  for (const url of [bareUrl, decisionUrl]) await run({ url, connections: CONNECTIONS, duration: WARMUP_SECONDS }).result;
  const bare = await run({ url: bareUrl, connections: CONNECTIONS, duration: SECONDS }).result;
  const decision = await run({ url: decisionUrl, connections: CONNECTIONS, duration: SECONDS }).result;
  console.log(line('bare', bare));
  console.log(line('decision', decision));
  const ratio = decision.requests.average / bare.requests.average;
  console.log(`ratio decision/bare: ${ratio.toFixed(3)} (goal >= 0.7) ${ratio >= 0.7 ? 'OK' : 'MISSED'}`);
  console.log(`decision p99: ${decision.latency.p99} ms (goal <= 5 ms) ${decision.latency.p99 <= 5 ? 'OK' : 'MISSED'}`);

  // Soak: RSS before and after SOAK_REQUESTS decisions (capped in time), sampled along the way.
  const before = await ask<Mem>(proc, { type: 'mem' }, 'mem');
  console.log(`soak: ${SOAK_REQUESTS} decision requests, at most ${SOAK_MAX_SECONDS} s; before: ${memLine(before)}`);
  const soak = run({ url: decisionUrl, connections: CONNECTIONS, amount: SOAK_REQUESTS, duration: SOAK_MAX_SECONDS * 2 });
  let capped = false;
  const cap = setTimeout(() => {
    capped = true;
    soak.instance.stop();
  }, SOAK_MAX_SECONDS * 1000);
  const samples: number[] = [];
  const sampler = setInterval(() => {
    void ask<Mem>(proc, { type: 'mem' }, 'mem').then((m) => samples.push(m.rss));
  }, 15_000);
  const soaked = await soak.result;
  clearTimeout(cap);
  clearInterval(sampler);
  const after = await ask<Mem>(proc, { type: 'mem' }, 'mem');
  const done = soaked.requests.total;
  console.log(
    `soak: ${done} requests${capped ? ` (capped at ${SOAK_MAX_SECONDS} s)` : ''} in ${soaked.duration.toFixed(1)} s, ${soaked.requests.average.toFixed(0)} req/s, p99 ${soaked.latency.p99} ms, non-2xx ${soaked.non2xx}, errors ${soaked.errors}`,
  );
  console.log(`soak: service RSS every 15 s: ${samples.map(mb).join(', ') || '(none)'}`);
  const growth = after.rss - before.rss;
  console.log(`soak: after: ${memLine(after)}; RSS growth ${mb(growth)}, heap growth ${mb(after.heap - before.heap)} (goal: RSS <= 120 MB, no growth) ${after.rss <= 120 * 1048576 ? 'OK' : 'MISSED'}`);

  for (const c of [service.proc, bareChild.proc]) {
    c.send({ type: 'stop' });
    await new Promise((resolve) => c.once('exit', resolve));
  }
}

const role = process.env.XFSGUARD_BENCH_CHILD;
if (role === 'service') await childService();
else if (role === 'bare') await childBare();
else await parent();
