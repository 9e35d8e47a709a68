// The servers api-bench.ts loads, one per process, started as `node api-bench-servers.mjs ROLE`
// after esbuild compiled this file (no tsx in the measured process):
//   service   xfsguard's own server (startServer), decision log at info to a file
//   statfs    a bare Fastify route doing only the statfs a decision does, answering a small JSON
//   constant  a bare Fastify route answering a constant
// Each answers the parent's IPC questions: its memory, and stop.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { PerformanceObserver, monitorEventLoopDelay, performance, type PerformanceEntry } from 'node:perf_hooks';

export interface ChildReady {
  type: 'ready';
  port: number;
  path: string;
}

async function service(): Promise<void> {
  watchLoop();
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
    logger: { level: process.env.BENCH_SERVICE_LOG_LEVEL ?? 'info', file: path.join(base, 'service.log') },
  });
  serveControl(() => server.close().then(() => rmSync(base, { recursive: true, force: true })), {
    type: 'ready',
    port: server.port!,
    path: path.join(root, 'vm.qcow2'),
  });
}

async function bare(role: 'statfs' | 'constant'): Promise<void> {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  if (role === 'statfs') {
    app.get<{ Querystring: { path: string } }>('/statfs', async (request) => {
      const sfs = await statfs(path.dirname(request.query.path));
      return { type: Number(sfs.type), free: Number(sfs.bavail) * Number(sfs.bsize) };
    });
  } else {
    app.get('/constant', () => ({ ok: true }));
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  serveControl(() => app.close(), { type: 'ready', port: typeof addr === 'object' && addr !== null ? addr.port : 0, path: '' });
}

/** What held the event loop since the last reset: its delay, and the GC pauses in it. */
export interface LoopStats {
  type: 'loop';
  delayP50: number;
  delayP99: number;
  delayMax: number;
  gcCount: number;
  gcTotalMs: number;
  gcMaxMs: number;
  /** GC pauses over 20 ms: kind (perf_hooks constants: 1 minor/scavenge, 4 major/mark-compact, 8 incremental marking, 16 weak callbacks) and ms. */
  gcLong: [number, number][];
}

const loopDelay = monitorEventLoopDelay({ resolution: 5 });
let gcPauses: [number, number][] = [];

/** Watched in the service only: the baselines run untouched. */
function watchLoop(): void {
  loopDelay.enable();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcPauses.push([(e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0, e.duration]);
  }).observe({ entryTypes: ['gc'] });
}

function loopStats(): LoopStats {
  const ms = (ns: number) => ns / 1e6;
  const stats: LoopStats = {
    type: 'loop',
    delayP50: ms(loopDelay.percentile(50)),
    delayP99: ms(loopDelay.percentile(99)),
    delayMax: ms(loopDelay.max),
    gcCount: gcPauses.length,
    gcTotalMs: gcPauses.reduce((a, [, d]) => a + d, 0),
    gcMaxMs: Math.max(0, ...gcPauses.map(([, d]) => d)),
    gcLong: gcPauses.filter(([, d]) => d > 20),
  };
  loopDelay.reset();
  gcPauses = [];
  return stats;
}

/** Answers the parent's memory questions and stop request over IPC. */
function serveControl(stop: () => Promise<unknown>, ready: ChildReady): void {
  process.on('message', (msg: { type: string; gc?: boolean }) => {
    if (msg.type === 'loop') {
      process.send!(loopStats());
    } else if (msg.type === 'mem') {
      if (msg.gc === true) globalThis.gc?.();
      const m = process.memoryUsage();
      const cpu = process.cpuUsage();
      process.send!({ type: 'mem', rss: m.rss, heap: m.heapUsed, heapTotal: m.heapTotal, external: m.external, cpuUs: cpu.user + cpu.system });
    } else if (msg.type === 'stop') {
      void stop().then(() => process.exit(0));
    }
  });
  process.send!(ready);
}

export interface ProbeTimes {
  type: 'probes';
  /** Latency of each answered probe (ms), in the order sent. */
  times: number[];
  failures: number;
}

/**
 * GET /livez every intervalMs on a keep-alive connection of its own, from a process of its own
 * (as a kubelet or a watchdog asks): the load generator's busy event loop is not in the numbers.
 * Runs until the parent says stop, then sends the latencies.
 */
function probe(port: number, intervalMs: number): void {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  let failures = 0;
  let stopped = false;
  const once = () => {
    if (stopped) return;
    const t0 = performance.now();
    const req = http.get({ host: '127.0.0.1', port, path: '/livez', agent, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) times.push(performance.now() - t0);
        else failures += 1;
        setTimeout(once, intervalMs);
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => {
      failures += 1;
      setTimeout(once, intervalMs);
    });
  };
  process.on('message', (msg: { type: string }) => {
    if (msg.type !== 'stop') return;
    stopped = true;
    agent.destroy();
    process.send!({ type: 'probes', times, failures } satisfies ProbeTimes, () => process.exit(0));
  });
  process.send!({ type: 'ready', port, path: '' } satisfies ChildReady);
  once();
}

const role = process.argv[2];
if (role === 'service') await service();
else if (role === 'probe') probe(Number(process.argv[3]), Number(process.argv[4]));
else if (role === 'statfs' || role === 'constant') await bare(role);
else throw new Error(`unknown role ${role}`);
