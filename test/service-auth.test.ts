// Issue 8.4 and 8.6: who may use the service, and what it tells them. Real listeners; the hostile
// local user is `nobody`, via setpriv, with curl (CI runs as root and has both).
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { loadKnowledgeBase } from '../policies/knowledge-base.js';
import { defaultPolicy } from '../policies/operator-policy.js';
import type { FilesystemFacts, KernelFacts, SelfTestReport } from '../probes/types.js';
import { probeKernel } from '../probes/kernel.js';
import { loadPeerCred } from '../native/peercred.js';
import type { AuthConfig } from '../service/http/auth.js';
import { startServer, type ServerOptions } from '../service/http/server.js';
import type { JudgeContext } from '../service/judge.js';
import { lookupGroup, userNameLookup } from '../service/cli/serve-auth.js';
import { loopFsOrSkip } from './helpers/scratch-fs.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOKEN = 'x'.repeat(20) + 'abcdefghijklmnopqrstuvwxyz012345';

let base: string;
let root: string;
let kernel: KernelFacts;
let n = 0;

before(async () => {
  base = mkdtempSync(path.join('/var/tmp', 'xfsguard-service-auth-'));
  chmodSync(base, 0o755);
  root = path.join(base, 'images');
  mkdirSync(root);
  mkdirSync(path.join(base, 'private'), { mode: 0o700 });
  symlinkSync(path.join(base, 'private', 'secret'), path.join(root, 'leak'));
  kernel = await probeKernel();
});
after(() => rmSync(base, { recursive: true, force: true }));

/** Why the nobody tests cannot run here, or null. */
function nobodyUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to run curl as nobody';
  for (const cmd of ['setpriv', 'curl']) if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) return `${cmd} is not installed`;
  return null;
}

interface Curl {
  status: number;
  body: string;
}

/** curl as root, or as nobody (setpriv); `target` is {socket} or {port}. Asynchronous: the server runs in this process. */
async function curl(target: { socket: string } | { port: number }, urlPath: string, opts: { asNobody?: boolean; method?: string; token?: string; body?: string } = {}): Promise<Curl> {
  const args = ['-sS', '-m', '10', '-o', '-', '-w', '\n%{http_code}', '-X', opts.method ?? 'GET'];
  if ('socket' in target) args.push('--unix-socket', target.socket);
  if (opts.token !== undefined) args.push('-H', `Authorization: Bearer ${opts.token}`);
  if (opts.body !== undefined) args.push('-H', 'content-type: application/json', '--data', opts.body);
  args.push('socket' in target ? `http://x${urlPath}` : `http://127.0.0.1:${target.port}${urlPath}`);
  const cmd = opts.asNobody === true ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', 'curl', ...args] : ['curl', ...args];
  const r = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
    execFile(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: 20_000 }, (_err, stdout, stderr) => resolve({ stdout, stderr }));
  });
  const i = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(i + 1)), body: r.stdout.slice(0, i) + r.stderr };
}

function fakeSelfTest(runs: { count: number }): NonNullable<ServerOptions['selfTest']> {
  return (fs: FilesystemFacts, k: KernelFacts, ctx: JudgeContext) =>
    ctx.singleFlight!.run(fs, () => {
      runs.count += 1;
      const report: SelfTestReport = {
        format_version: 1, outcome: 'not_reproduced', directory: fs.judged_directory, device: fs.device, fs_uuid: fs.fs_uuid, fs_type: fs.fs_type,
        kernel_release: k.release, boot_id: k.boot_id, started_at: new Date().toISOString(), duration_ms: 1, bytes_written: 0, iterations: 1,
        reproductions: 0, engines: ['aio'], modes: ['alloc'], runs: [], reason: null,
      };
      ctx.onSelfTest?.(report);
      return Promise.resolve(report);
    }).report;
}

async function serve(auth: AuthConfig | undefined, over: Partial<ServerOptions> = {}) {
  n += 1;
  const dir = path.join(base, `run${n}`);
  mkdirSync(dir, { mode: 0o755 });
  return startServer({
    policy: { ...defaultPolicy(), allowed_roots: [root], source: 'test policy' },
    knowledgeBase: loadKnowledgeBase(),
    stateDir: path.join(base, 'state'),
    socketPath: path.join(dir, 'xfsguard.sock'),
    tcp: { host: '127.0.0.1', port: 0 },
    logger: false,
    loadNative: false,
    probeKernel: () => Promise.resolve(kernel),
    hostFacts: () => Promise.resolve({ hostname: 'test', arch: process.arch, platform: process.platform, distro: null, note: null }),
    ...(auth !== undefined ? { auth } : {}),
    ...over,
  });
}

const peer = loadPeerCred();
const peerAuth = (over: Partial<AuthConfig> = {}): AuthConfig => ({
  tcpToken: TOKEN, socketGroup: null, peerCredentials: peer instanceof Error ? null : peer, userName: userNameLookup(), ...over,
});
const decision = (p: string) => `/v1/decision?path=${encodeURIComponent(p)}`;

test('TCP: nobody without the token gets 401 and starts no self-test; with it, 200; /livez stays open', async (t) => {
  const why = nobodyUnavailable();
  if (why !== null) return t.skip(why);
  const runs = { count: 0 };
  const server = await serve(peerAuth(), { selfTest: fakeSelfTest(runs) });
  t.after(() => server.close());
  const tcp = { port: server.port! };
  const post = await curl(tcp, '/v1/selftest', { asNobody: true, method: 'POST', body: JSON.stringify({ path: root }) });
  assert.equal(post.status, 401, post.body);
  assert.match(post.body, /"code":"unauthorized"/);
  assert.equal((await curl(tcp, decision(root), { asNobody: true })).status, 401);
  assert.equal((await curl(tcp, decision(root), { asNobody: true, token: `${TOKEN.slice(1)}y` })).status, 401, 'a wrong token of the same length');
  assert.equal((await curl(tcp, decision(root), { asNobody: true, token: TOKEN.slice(3) })).status, 401, 'a prefix of the token');
  assert.equal((await curl(tcp, '/metrics', { asNobody: true })).status, 401);
  assert.equal((await curl(tcp, '/livez', { asNobody: true })).status, 200);
  assert.equal(runs.count, 0);
  const ok = await curl(tcp, decision(root), { asNobody: true, token: TOKEN });
  assert.equal(ok.status, 200, ok.body);
});

test('TCP with no token configured refuses every request but the health probes', async (t) => {
  const why = nobodyUnavailable();
  if (why !== null) return t.skip(why);
  const server = await serve(peerAuth({ tcpToken: null }));
  t.after(() => server.close());
  assert.equal((await curl({ port: server.port! }, decision(root))).status, 403);
  assert.equal((await curl({ port: server.port! }, '/readyz')).status, 200);
});

test('unix socket: SO_PEERCRED refuses nobody even when the socket file is world-writable; root and --socket-group members pass', async (t) => {
  const why = nobodyUnavailable() ?? (peer instanceof Error ? `native addon without peerCred: ${peer.message}` : null);
  if (why !== null) return t.skip(why);
  const server = await serve(peerAuth(), { tcp: null });
  t.after(() => server.close());
  const sock = { socket: server.socketPath! };
  assert.equal(statSync(server.socketPath!).mode & 0o777, 0o660);
  const denied = await curl(sock, decision(root), { asNobody: true });
  assert.notEqual(denied.status, 200, 'mode 0660 keeps nobody out');
  chmodSync(server.socketPath!, 0o666); // a misconfigured socket: the peer check still holds
  const r = await curl(sock, decision(root), { asNobody: true });
  assert.equal(r.status, 403, r.body);
  assert.match(r.body, /"code":"forbidden"/);
  assert.equal((await curl(sock, decision(root))).status, 200, 'root');

  const grouped = await serve(peerAuth({ socketGroup: lookupGroup('nogroup') }), { tcp: null });
  t.after(() => grouped.close());
  assert.equal((await curl({ socket: grouped.socketPath! }, decision(root), { asNobody: true })).status, 200, 'nobody is in nogroup (primary gid)');
});

test('403 texts name neither where a symlink points nor the allowed roots', async (t) => {
  const server = await serve(undefined, { tcp: null });
  t.after(() => server.close());
  for (const p of [path.join(root, 'leak'), path.join(base, 'private', 'secret')]) {
    const r = await curl({ socket: server.socketPath! }, decision(p));
    assert.equal(r.status, 403, r.body);
    assert.doesNotMatch(r.body, /private\/secret.*private\/secret|resolves to/);
    assert.doesNotMatch(r.body, new RegExp(root.replace(/[/.]/g, '\\$&') + '(?!/leak)'), 'no roots list');
  }
});

test('a GET decision on XFS starts no self-test unless selftest=auto is asked; POST does', async (t) => {
  const xfs = loopFsOrSkip(t);
  if (xfs === null) return;
  const runs = { count: 0 };
  const server = await serve(undefined, { tcp: null, selfTest: fakeSelfTest(runs), policy: { ...defaultPolicy(), allowed_roots: [xfs.mountPoint], source: 'test' } });
  t.after(() => server.close());
  const sock = { socket: server.socketPath! };
  const r = await curl(sock, decision(xfs.mountPoint));
  assert.equal(r.status, 200, r.body);
  assert.equal((JSON.parse(r.body) as { selftest_ran: boolean }).selftest_ran, false, 'GET started a self-test');
  const auto = await curl(sock, `${decision(xfs.mountPoint)}&selftest=auto`);
  assert.equal(auto.status, 200, auto.body);
  assert.equal((JSON.parse(auto.body) as { selftest_ran: boolean }).selftest_ran, true, 'selftest=auto asked for one');
  runs.count = 0;
  assert.equal((await curl(sock, '/v1/selftest', { method: 'POST', body: JSON.stringify({ path: xfs.mountPoint }) })).status, 200);
  assert.equal(runs.count, 1, 'POST runs one');
});

test('the self-test rate limit is per client: one user spending it leaves another its own', async (t) => {
  const why = nobodyUnavailable() ?? (peer instanceof Error ? peer.message : null);
  if (why !== null) return t.skip(why);
  const runs = { count: 0 };
  const server = await serve(peerAuth({ socketGroup: lookupGroup('nogroup') }), { tcp: null, selfTest: fakeSelfTest(runs), limits: { selftestRateMax: 1 } });
  t.after(() => server.close());
  chmodSync(path.dirname(server.socketPath!), 0o755);
  const sock = { socket: server.socketPath! };
  const body = JSON.stringify({ path: root });
  assert.equal((await curl(sock, '/v1/selftest', { method: 'POST', body })).status, 200);
  assert.equal((await curl(sock, '/v1/selftest', { method: 'POST', body })).status, 429);
  assert.equal((await curl(sock, '/v1/selftest', { method: 'POST', body, asNobody: true })).status, 200, 'nobody has its own budget');
});

function raw(sock: string, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(sock, () => c.write(request));
    let out = '';
    c.setEncoding('utf8').on('data', (d: string) => (out += d));
    c.on('end', () => resolve(out));
    c.on('error', reject);
    setTimeout(() => {
      c.destroy();
      resolve(out);
    }, 3000);
  });
}

test('CONNECT and an HTTP/1.1 request without Host get JSON 4xx answers like every other', async (t) => {
  const server = await serve(undefined, { tcp: null });
  t.after(() => server.close());
  const connect = await raw(server.socketPath!, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
  assert.match(connect, /^HTTP\/1\.1 405 /);
  assert.match(connect, /\{"code":"method_not_allowed","message":"[^"]+"\}$/);
  const noHost = await raw(server.socketPath!, 'GET /livez HTTP/1.1\r\nConnection: close\r\n\r\n');
  assert.match(noHost, /^HTTP\/1\.1 400 /);
  assert.match(noHost, /\{"code":"host_missing","message":"[^"]+"\}$/);
  const http10 = await raw(server.socketPath!, 'GET /livez HTTP/1.0\r\n\r\n');
  assert.match(http10, /^HTTP\/1\.1 200 /, 'HTTP/1.0 needs no Host');
});

describe_serve();

/** `xfsguard serve` as a process: the socket only by default; TCP without a readable token refuses to start. */
function describe_serve(): void {
  const cli = ['--import', 'tsx', path.join(REPO, 'service/cli/xfsguard.ts'), 'serve'];
  test('serve listens on the unix socket only unless TCP is asked; --tcp without a token file exits 2', async (t) => {
    const policyFile = path.join(base, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ allowed_roots: [root] }));
    const sock = path.join(base, 'serve-default.sock');
    const proc = spawn(process.execPath, [...cli, '--socket', sock, '--policy', policyFile, '--state-dir', path.join(base, 'state')], {
      cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NOTIFY_SOCKET: '' },
    });
    t.after(() => {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    for (let i = 0; i < 300 && !/"msg":"ready"/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
    const ready = out.split('\n').find((l) => l.includes('"msg":"ready"'));
    assert.ok(ready !== undefined, out);
    assert.deepEqual((JSON.parse(ready) as { addresses: string[] }).addresses, [`unix:${sock}`]);
    proc.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(existsSync(sock), false);

    const missing = spawnSync(process.execPath, [...cli, '--tcp', '--port', '0', '--no-socket', '--policy', policyFile, '--token-file', path.join(base, 'absent-token')], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
    assert.equal(missing.status, 2, missing.stderr);
    assert.match(missing.stderr, /bearer token.*absent-token/);
    const open = path.join(base, 'open-token');
    writeFileSync(open, `${TOKEN}\n`, { mode: 0o644 });
    chmodSync(open, 0o644);
    const worldReadable = spawnSync(process.execPath, [...cli, '--port', '0', '--no-socket', '--policy', policyFile, '--token-file', open], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
    assert.equal(worldReadable.status, 2, worldReadable.stderr);
    assert.match(worldReadable.stderr, /readable by every user/);
  });
}
