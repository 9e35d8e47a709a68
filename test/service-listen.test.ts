// The service through real listeners: a unix socket and loopback TCP (port 0, temp socket paths),
// readiness during start-up, stale/busy socket files, remote binding, slow clients, graceful
// shutdown, and `xfsguard serve` as a process (SIGTERM, bad policy).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { loadKnowledgeBase } from '../policies/knowledge-base.js';
import { defaultPolicy, type OperatorPolicy } from '../policies/operator-policy.js';
import { probeKernel } from '../probes/kernel.js';
import type { KernelFacts } from '../probes/types.js';
import type { JudgeContext, JudgeRequest, Judgement } from '../service/judge.js';
import { judge } from '../service/judge.js';
import { ServeConfigError, startServer, type ServerOptions } from '../service/http/server.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let base: string;
let root: string;
let kernel: KernelFacts;
let policy: OperatorPolicy;
let n = 0;

before(async () => {
  base = mkdtempSync(path.join('/var/tmp', 'xfsguard-service-listen-'));
  root = path.join(base, 'images');
  mkdirSync(root);
  kernel = await probeKernel();
  policy = { ...defaultPolicy(), allowed_roots: [root], source: 'test policy' };
});

after(() => rmSync(base, { recursive: true, force: true }));

function socketPath(): string {
  n += 1;
  return path.join(base, `run${n}`, 'xfsguard.sock');
}

function options(over: Partial<ServerOptions> = {}): ServerOptions {
  return {
    policy,
    knowledgeBase: loadKnowledgeBase(),
    stateDir: path.join(base, 'state'),
    socketPath: socketPath(),
    tcp: { host: '127.0.0.1', port: 0 },
    logger: false,
    loadNative: false,
    probeKernel: () => Promise.resolve(kernel),
    hostFacts: () => Promise.resolve({ hostname: 'test', arch: process.arch, platform: process.platform, distro: null, note: null }),
    ...over,
  };
}

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(target: { socketPath: string } | { port: number }, urlPath: string, init: { method?: string; body?: string } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { ...('port' in target ? { host: '127.0.0.1', port: target.port } : { socketPath: target.socketPath }), path: urlPath, method: init.method ?? 'GET', agent: false,
        headers: init.body !== undefined ? { 'content-type': 'application/json' } : {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

const decisionUrl = (p: string) => `/v1/decision?path=${encodeURIComponent(p)}&selftest=never`;

describe('listening', () => {
  test('answers on the unix socket (mode 0660) and on loopback TCP; close removes the socket', async () => {
    const server = await startServer(options());
    const sock = server.socketPath!;
    try {
      assert.equal(statSync(sock).mode & 0o777, 0o660);
      assert.ok(statSync(sock).isSocket());
      assert.deepEqual(server.addresses, [`unix:${sock}`, `http://127.0.0.1:${server.port}`]);
      for (const target of [{ socketPath: sock }, { port: server.port! }]) {
        const r = await request(target, decisionUrl(root));
        assert.equal(r.status, 200, r.body);
        assert.equal((JSON.parse(r.body) as { judged_directory: string }).judged_directory, root);
        assert.equal((await request(target, '/readyz')).status, 200);
        const bad = await request(target, '/v1/decision?path=relative');
        assert.equal(bad.status, 400);
        assert.equal((JSON.parse(bad.body) as { code: string }).code, 'path_relative');
      }
    } finally {
      await server.close();
    }
    assert.equal(existsSync(sock), false);
    await assert.rejects(request({ port: server.port! }, '/livez'), { code: 'ECONNREFUSED' });
  });

  test('TCP only (--no-socket) and socket only (--no-tcp)', async () => {
    const tcpOnly = await startServer(options({ socketPath: null }));
    try {
      assert.equal((await request({ port: tcpOnly.port! }, '/livez')).status, 200);
      assert.deepEqual(tcpOnly.addresses, [`http://127.0.0.1:${tcpOnly.port}`]);
    } finally {
      await tcpOnly.close();
    }
    const sockOnly = await startServer(options({ tcp: null }));
    try {
      assert.equal(sockOnly.port, null);
      assert.equal((await request({ socketPath: sockOnly.socketPath! }, '/livez')).status, 200);
    } finally {
      await sockOnly.close();
    }
    assert.throws(() => {
      throw new ServeConfigError('x');
    });
    await assert.rejects(startServer(options({ socketPath: null, tcp: null })), ServeConfigError);
  });

  test('readyz is 503 (and decisions not_ready) until the kernel probe and state load are done', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const opts = options({ probeKernel: async () => (await gate, kernel) });
    const starting = startServer(opts);
    // wait for the socket to appear
    for (let i = 0; i < 100 && !existsSync(opts.socketPath!); i++) await new Promise((r) => setTimeout(r, 20));
    const target = { socketPath: opts.socketPath! };
    const ready = await request(target, '/readyz');
    assert.equal(ready.status, 503);
    assert.equal((JSON.parse(ready.body) as { status: string }).status, 'fail');
    const d = await request(target, decisionUrl(root));
    assert.equal(d.status, 503);
    assert.equal((JSON.parse(d.body) as { code: string }).code, 'not_ready');
    assert.equal((await request(target, '/livez')).status, 200);
    release();
    const server = await starting;
    try {
      assert.equal((await request(target, '/readyz')).status, 200);
    } finally {
      await server.close();
    }
  });

  test('a stale socket file is removed; a live one, or a file that is not a socket, is left alone', async () => {
    const stale = socketPath();
    mkdirSync(path.dirname(stale), { recursive: true });
    // a process that binds the socket and dies without unlinking it
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    assert.ok(statSync(stale).isSocket(), 'stale socket left behind');
    const server = await startServer(options({ socketPath: stale }));
    try {
      assert.equal((await request({ socketPath: stale }, '/livez')).status, 200);
      // a second instance on the same socket refuses, and does not remove the live socket
      await assert.rejects(startServer(options({ socketPath: stale })), (err: Error) => err instanceof ServeConfigError && /another process listens/.test(err.message));
      assert.equal((await request({ socketPath: stale }, '/livez')).status, 200);
    } finally {
      await server.close();
    }
    const plain = socketPath();
    mkdirSync(path.dirname(plain), { recursive: true });
    writeFileSync(plain, 'not a socket');
    await assert.rejects(startServer(options({ socketPath: plain, tcp: null })), /is not a socket/);
    assert.ok(existsSync(plain));
  });

  test('a non-loopback address needs allowRemote and TLS (served in service-tls.test.ts)', async () => {
    await assert.rejects(startServer(options({ tcp: { host: '0.0.0.0', port: 0 } })), (err: Error) => err instanceof ServeConfigError && /--allow-remote/.test(err.message));
    await assert.rejects(
      startServer(options({ socketPath: null, tcp: { host: '0.0.0.0', port: 0 }, allowRemote: true })),
      (err: Error) => err instanceof ServeConfigError && /needs TLS/.test(err.message),
    );
  });

  test('a slow client gets 408 {code: request_timeout}', async () => {
    const server = await startServer(options({ socketPath: null, limits: { headersTimeoutMs: 300, requestTimeoutMs: 300, connectionsCheckingIntervalMs: 50 } }));
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const sock = net.connect({ host: '127.0.0.1', port: server.port! }, () => sock.write('GET /v1/decision?path=/x HTTP/1.1\r\nHost: x\r\n'));
        let data = '';
        sock.setEncoding('utf8');
        sock.on('data', (c: string) => (data += c));
        sock.on('close', () => resolve(data));
        sock.on('error', reject);
      });
      assert.match(answer, /^HTTP\/1\.1 408 /);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { code: string; message: string };
      assert.equal(body.code, 'request_timeout');
      // the service still answers
      assert.equal((await request({ port: server.port! }, '/livez')).status, 200);
    } finally {
      await server.close();
    }
  });
});

describe('allowed roots', () => {
  test('a root that is itself a symlink allows the directory it points to, and nothing else', async () => {
    const link = path.join(base, 'images-link');
    symlinkSync(root, link);
    mkdirSync(path.join(root, 'pool'), { recursive: true });
    const server = await startServer(options({ socketPath: null, policy: { ...policy, allowed_roots: [link] } }));
    try {
      for (const p of [link, path.join(link, 'pool'), path.join(link, 'pool', 'new.img'), path.join(root, 'pool')]) {
        const r = await request({ port: server.port! }, decisionUrl(p));
        assert.equal(r.status, 200, `${p}: ${r.body}`);
      }
      const r = await request({ port: server.port! }, decisionUrl(base));
      assert.equal(r.status, 403, r.body);
      assert.equal((JSON.parse(r.body) as { code: string }).code, 'path_not_allowed');
    } finally {
      await server.close();
    }
  });
});

describe('graceful shutdown', () => {
  test('requests in flight complete on both listeners, running self-tests are cancelled, the socket is removed', async () => {
    let entered = 0;
    const slowJudge = async (req: JudgeRequest, ctx: JudgeContext): Promise<Judgement> => {
      entered += 1;
      await new Promise((r) => setTimeout(r, 400));
      return judge(req, ctx);
    };
    let selfTestSignal: AbortSignal | undefined;
    const server = await startServer(
      options({
        judge: slowJudge,
        selfTest: (fs, k, ctx, opts) =>
          ctx.singleFlight!.run(fs, async () => {
            selfTestSignal = opts.signal;
            await new Promise<void>((resolve) => opts.signal?.addEventListener('abort', () => resolve(), { once: true }));
            return {
              format_version: 1, outcome: 'unsupported', directory: fs.judged_directory, device: fs.device, fs_uuid: fs.fs_uuid, fs_type: fs.fs_type,
              kernel_release: k.release, boot_id: k.boot_id, started_at: new Date().toISOString(), duration_ms: 1, bytes_written: 0, iterations: 0,
              reproductions: 0, engines: [], modes: [], runs: [], reason: 'the self-test was cancelled',
            };
          }).report,
      }),
    );
    const sock = server.socketPath!;
    const inFlight = [
      request({ socketPath: sock }, decisionUrl(root)),
      request({ port: server.port! }, decisionUrl(root)),
      request({ socketPath: sock }, '/v1/selftest', { method: 'POST', body: JSON.stringify({ path: root }) }),
    ];
    while (entered < 2 || selfTestSignal === undefined) await new Promise((r) => setTimeout(r, 10));
    const closed = server.close();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(existsSync(sock) && (await request({ socketPath: sock }, '/livez').catch(() => null))?.status === 200, false, 'no new requests once closing');
    const [a, b, c] = (await Promise.all(inFlight)) as [Res, Res, Res];
    assert.equal(a.status, 200, a.body);
    assert.equal(b.status, 200, b.body);
    assert.equal(c.status, 200, c.body);
    assert.equal(selfTestSignal.aborted, true);
    assert.equal((JSON.parse(c.body) as { report: { outcome: string } }).report.outcome, 'unsupported');
    await closed;
    assert.equal(existsSync(sock), false);
  });
});

describe('xfsguard serve (a process)', () => {
  const cli = ['--import', 'tsx', path.join(REPO, 'service/cli/xfsguard.ts'), 'serve'];

  test('starts, logs JSON lines, answers on the socket, stops on SIGTERM with exit 0 and removes the socket', async () => {
    const sock = socketPath();
    const policyFile = path.join(base, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ allowed_roots: [root] }));
    const proc = spawn(process.execPath, [...cli, '--socket', sock, '--policy', policyFile, '--state-dir', path.join(base, 'state')], {
      cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NOTIFY_SOCKET: '' },
    });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    let err = '';
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    try {
      for (let i = 0; i < 300 && !/"msg":"ready"/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(out, /"msg":"ready"/, `stdout: ${out}\nstderr: ${err}`);
      const r = await request({ socketPath: sock }, decisionUrl(root));
      assert.equal(r.status, 200);
      const decisionId = (JSON.parse(r.body) as { decision_id: string }).decision_id;
      proc.kill('SIGTERM');
      assert.equal(await exited, 0, err);
      const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const logged = lines.find((l) => l.msg === 'decision');
      assert.equal(logged?.decision_id, decisionId);
      assert.ok(lines.some((l) => l.msg === 'stopped'));
      assert.equal(existsSync(sock), false);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  });

  test('SIGTERM while starting (listening, not yet ready) is a clean stop: exit 0, socket removed (issue 8.6)', async () => {
    const sock = socketPath();
    const policyFile = path.join(base, 'policy-early.json');
    writeFileSync(policyFile, JSON.stringify({ allowed_roots: [root] }));
    const proc = spawn(process.execPath, [...cli, '--socket', sock, '--policy', policyFile, '--state-dir', path.join(base, 'state')], {
      cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NOTIFY_SOCKET: '' },
    });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (/Server listening/.test(out) && !proc.killed) proc.kill('SIGTERM');
    });
    const exited = new Promise<[number | null, string | null]>((r) => proc.once('exit', (code, signal) => r([code, signal])));
    const [code, signal] = await exited;
    assert.deepEqual([code, signal], [0, null], `a clean exit, not death by signal: ${out}`);
    assert.match(out, /"msg":"(signal received before ready: stopping|signal received)"/);
    assert.equal(existsSync(sock), false, 'the socket is removed');
  });

  test('refuses to start with a bad policy: exit 2 and the reason', () => {
    const bad = path.join(base, 'bad-policy.json');
    writeFileSync(bad, JSON.stringify({ allowed_roots: ['relative/dir'], mode: 'yolo' }));
    const sock = socketPath();
    const r = spawnSync(process.execPath, [...cli, '--socket', sock, '--no-tcp', '--policy', bad], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /bad-policy\.json: .*mode/);
    assert.equal(existsSync(sock), false);
  });

  test('refuses a non-loopback --host without --allow-remote: exit 2', () => {
    const policyFile = path.join(base, 'policy-remote.json');
    writeFileSync(policyFile, JSON.stringify({ allowed_roots: [root] }));
    // a valid token, so the refusal is about the address, not a missing /etc/xfsguard/api-token
    const tokenFile = path.join(base, 'api-token-remote');
    writeFileSync(tokenFile, `${'x'.repeat(40)}\n`, { mode: 0o640 });
    const r = spawnSync(process.execPath, [...cli, '--no-socket', '--host', '0.0.0.0', '--port', '0', '--policy', policyFile, '--token-file', tokenFile], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--allow-remote/);
  });
});
