// The servers api-bench.ts loads, one per process, started as `node api-bench-servers.mjs ROLE`
// after esbuild compiled this file (no tsx in the measured process):
//   service   xfsguard's own server (startServer), decision log at info to a file
//   statfs    a bare Fastify route doing only the statfs a decision does, answering a small JSON
//   constant  a bare Fastify route answering a constant
// Each answers the parent's IPC questions: its memory, and stop.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import path from 'node:path';

export interface ChildReady {
  type: 'ready';
  port: number;
  path: string;
}

async function service(): Promise<void> {
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

/** Answers the parent's memory questions and stop request over IPC. */
function serveControl(stop: () => Promise<unknown>, ready: ChildReady): void {
  process.on('message', (msg: { type: string; gc?: boolean }) => {
    if (msg.type === 'mem') {
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

const role = process.argv[2];
if (role === 'service') await service();
else if (role === 'statfs' || role === 'constant') await bare(role);
else throw new Error(`unknown role ${role}`);
