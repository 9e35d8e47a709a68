// Issue 8.4, "TLS when remote is allowed": the TCP listener over HTTPS (--tls-cert/--tls-key),
// mutual TLS (--tls-client-ca), a non-loopback address only with TLS, and the start-up refusals.
// Real listeners on 127.0.0.1 and on this machine's first non-loopback IPv4; a throwaway CA and
// certificates made with the openssl CLI in a private temp directory; curl as a real client.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadKnowledgeBase } from '../policies/knowledge-base.js';
import { defaultPolicy } from '../policies/operator-policy.js';
import { probeKernel } from '../probes/kernel.js';
import type { FilesystemFacts, KernelFacts, SelfTestReport } from '../probes/types.js';
import type { AuthConfig } from '../service/http/auth.js';
import { ServeConfigError, startServer, type ServerOptions } from '../service/http/server.js';
import type { TlsConfig } from '../service/http/tls.js';
import type { JudgeContext, JudgeRequest, Judgement } from '../service/judge.js';
import { judge } from '../service/judge.js';
import { CLI, REPO_ROOT, runCli } from './helpers/run-cli.js';

const TOKEN = 'tls-test-token-'.padEnd(48, 'x');

/** This machine's first non-internal IPv4 address, or null. */
function nonLoopbackIPv4(): string | null {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

const OPENSSL = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const NO_OPENSSL = OPENSSL.status === 0 ? null : 'the openssl CLI is not installed (it makes the test certificates)';
const REMOTE = nonLoopbackIPv4();

let base: string;
let certs: string;
let root: string;
let kernel: KernelFacts;
let tokenFile: string;
let policyFile: string;
let n = 0;

const f = (name: string) => path.join(certs, name);

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: certs, encoding: 'utf8' });
  assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A CA (self-signed, EC P-256: fast) as NAME.pem/NAME.key. */
function makeCa(name: string): void {
  writeFileSync(f(`${name}.cnf`), `[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=xfsguard test ${name}\n[ext]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n`);
  openssl(['req', '-x509', '-config', f(`${name}.cnf`), '-extensions', 'ext', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', f(`${name}.key`), '-out', f(`${name}.pem`), '-days', '2']);
}

/** A leaf certificate NAME.pem/NAME.key signed by CA, for serverAuth or clientAuth. */
function makeLeaf(name: string, ca: string, ext: string): void {
  writeFileSync(f(`${name}.cnf`), `[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=${name}\n`);
  writeFileSync(f(`${name}.ext`), `${ext}\n`);
  openssl(['req', '-new', '-config', f(`${name}.cnf`), '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`)]);
  openssl(['x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${ca}.pem`), '-CAkey', f(`${ca}.key`), '-set_serial', String(Date.now()),
    '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.pem`)]);
  chmodSync(f(`${name}.key`), 0o600);
}

before(async () => {
  base = mkdtempSync(path.join('/var/tmp', 'xfsguard-service-tls-'));
  certs = path.join(base, 'certs');
  mkdirSync(certs, { mode: 0o700 });
  root = path.join(base, 'images');
  mkdirSync(root);
  kernel = await probeKernel();
  tokenFile = path.join(base, 'api-token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o640 });
  policyFile = path.join(base, 'policy.json');
  writeFileSync(policyFile, JSON.stringify({ allowed_roots: [root] }));
  if (NO_OPENSSL !== null) return;
  makeCa('ca');
  makeCa('other-ca');
  makeCa('client-ca');
  const ips = ['127.0.0.1', ...(REMOTE !== null ? [REMOTE] : [])];
  makeLeaf('server', 'ca', `subjectAltName=DNS:localhost,${ips.map((ip) => `IP:${ip}`).join(',')}\nextendedKeyUsage=serverAuth`);
  makeLeaf('client', 'client-ca', 'extendedKeyUsage=clientAuth');
  makeLeaf('stranger', 'other-ca', 'extendedKeyUsage=clientAuth');
});

after(() => rmSync(base, { recursive: true, force: true }));

const read = (name: string) => readFileSync(f(name), 'utf8');
const tlsConfig = (clientCa: string | null = null): TlsConfig => ({ cert: read('server.pem'), key: read('server.key'), clientCa });
const auth = (): AuthConfig => ({ tcpToken: TOKEN, socketGroup: null, peerCredentials: null });
const decisionUrl = (p: string) => `/v1/decision?path=${encodeURIComponent(p)}&selftest=never`;

function options(over: Partial<ServerOptions> = {}): ServerOptions {
  n += 1;
  const dir = path.join(base, `run${n}`);
  mkdirSync(dir);
  return {
    policy: { ...defaultPolicy(), allowed_roots: [root], source: 'test policy' },
    knowledgeBase: loadKnowledgeBase(),
    stateDir: path.join(base, 'state'),
    socketPath: path.join(dir, 'xfsguard.sock'),
    tcp: { host: '127.0.0.1', port: 0, tls: tlsConfig() },
    auth: auth(),
    logger: false,
    loadNative: false,
    probeKernel: () => Promise.resolve(kernel),
    hostFacts: () => Promise.resolve({ hostname: 'test', arch: process.arch, platform: process.platform, distro: null, note: null }),
    ...over,
  };
}

interface Res {
  status: number;
  body: string;
}

interface Client {
  host?: string;
  ca?: string | null;
  cert?: string;
  key?: string;
  token?: string | null;
  method?: string;
  body?: string;
}

function collect(resolve: (r: Res) => void) {
  return (res: http.IncomingMessage) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (body += c));
    res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
  };
}

/** An HTTPS request trusting `ca` (the test CA unless given; null: the system's store). */
function get(port: number, urlPath: string, c: Client = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = {};
    if (c.token !== null) headers.authorization = `Bearer ${c.token ?? TOKEN}`;
    if (c.body !== undefined) headers['content-type'] = 'application/json';
    const req = https.request(
      {
        host: c.host ?? '127.0.0.1', port, path: urlPath, method: c.method ?? 'GET', agent: false, headers, timeout: 10_000,
        ...(c.ca !== null ? { ca: c.ca ?? read('ca.pem') } : {}),
        ...(c.cert !== undefined ? { cert: c.cert, key: c.key } : {}),
      },
      collect(resolve),
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end(c.body);
  });
}

function plainGet(target: { port: number } | { socketPath: string }, urlPath: string): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request({ ...('port' in target ? { host: '127.0.0.1', port: target.port } : target), path: urlPath, agent: false, timeout: 10_000 }, collect(resolve));
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end();
  });
}

describe('HTTPS on TCP', { skip: NO_OPENSSL ?? false }, () => {
  test('loopback: a client trusting the CA, with the token, gets its decision; the socket stays plain HTTP', async () => {
    const server = await startServer(options());
    try {
      assert.deepEqual(server.addresses, [`unix:${server.socketPath}`, `https://127.0.0.1:${server.port}`]);
      const r = await get(server.port!, decisionUrl(root));
      assert.equal(r.status, 200, r.body);
      assert.equal((JSON.parse(r.body) as { judged_directory: string }).judged_directory, root);
      // the auth hook and the open health probes work over TLS as over HTTP
      assert.equal((await get(server.port!, decisionUrl(root), { token: null })).status, 401);
      assert.equal((await get(server.port!, decisionUrl(root), { token: 'y'.repeat(48) })).status, 401);
      assert.equal((await get(server.port!, '/livez', { token: null })).status, 200);
      assert.equal((await get(server.port!, '/readyz', { token: null })).status, 200);
      const sock = await plainGet({ socketPath: server.socketPath! }, decisionUrl(root));
      assert.equal(sock.status, 200, sock.body);
    } finally {
      await server.close();
    }
  });

  test('plain HTTP to the TLS port gets no answer; a client that does not trust the CA refuses the server', async () => {
    const server = await startServer(options({ socketPath: null }));
    try {
      await assert.rejects(plainGet({ port: server.port! }, '/livez'));
      await assert.rejects(get(server.port!, '/livez', { ca: read('other-ca.pem') }), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
      await assert.rejects(get(server.port!, '/livez', { ca: null }), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
      // TLS below 1.2 is refused by the server (its "protocol version" alert), from a client that
      // would take TLS 1.1 (security level 0 allows it on the client side)
      await assert.rejects(
        new Promise((resolve, reject) => {
          const req = https.get(
            { host: '127.0.0.1', port: server.port!, path: '/livez', agent: false, ca: read('ca.pem'), minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' },
            resolve,
          );
          req.on('error', reject);
        }),
        /alert protocol version/,
      );
      assert.equal((await get(server.port!, '/livez')).status, 200, 'the server still answers');
    } finally {
      await server.close();
    }
  });

  test(`a non-loopback address (${REMOTE ?? 'none here'}) with --allow-remote and TLS answers with the CA and the token`, { skip: REMOTE === null ? 'this machine has no non-loopback IPv4 address' : false }, async () => {
    const lines: string[] = [];
    const server = await startServer(
      options({
        socketPath: null,
        tcp: { host: REMOTE!, port: 0, tls: tlsConfig() },
        allowRemote: true,
        logger: { level: 'warn', stream: { write: (l: string) => void lines.push(l) } },
      }),
    );
    try {
      assert.deepEqual(server.addresses, [`https://${REMOTE}:${server.port}`]);
      const r = await get(server.port!, decisionUrl(root), { host: REMOTE! });
      assert.equal(r.status, 200, r.body);
      assert.equal((await get(server.port!, decisionUrl(root), { host: REMOTE!, token: null })).status, 401);
      await assert.rejects(get(server.port!, '/livez', { host: REMOTE!, ca: read('other-ca.pem') }), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
      assert.ok(lines.some((l) => /non-loopback address .* over TLS/.test(l)), lines.join(''));
    } finally {
      await server.close();
    }
  });

  test('a non-loopback address without TLS is refused, even with allowRemote; without allowRemote too', async () => {
    for (const allowRemote of [true, false]) {
      // a server that starts after all is closed again, or the test would never end
      const refusal = await startServer(options({ socketPath: null, tcp: { host: '0.0.0.0', port: 0 }, allowRemote })).then(
        async (s) => (await s.close(), null),
        (err: unknown) => err,
      );
      assert.ok(refusal instanceof ServeConfigError, `refused (allowRemote: ${allowRemote})`);
      assert.match(refusal.message, allowRemote ? /needs TLS/ : /--allow-remote/);
    }
  });

  test('--tls-client-ca: no client certificate, or one from another CA, is refused; one the CA signed gets in (with the token)', async () => {
    const server = await startServer(options({ socketPath: null, tcp: { host: '127.0.0.1', port: 0, tls: tlsConfig(read('client-ca.pem')) } }));
    try {
      await assert.rejects(get(server.port!, '/livez'));
      await assert.rejects(get(server.port!, '/livez', { cert: read('stranger.pem'), key: read('stranger.key') }));
      const mine = { cert: read('client.pem'), key: read('client.key') };
      const r = await get(server.port!, decisionUrl(root), mine);
      assert.equal(r.status, 200, r.body);
      assert.equal((await get(server.port!, decisionUrl(root), { ...mine, token: null })).status, 401, 'the certificate does not replace the token');
    } finally {
      await server.close();
    }
  });

  test('per-client rate limits key on the TLS peer address', async () => {
    const selfTest: NonNullable<ServerOptions['selfTest']> = (fs: FilesystemFacts, k: KernelFacts, ctx: JudgeContext) =>
      ctx.singleFlight!.run(fs, () => {
        const report: SelfTestReport = {
          format_version: 1, outcome: 'not_reproduced', directory: fs.judged_directory, device: fs.device, fs_uuid: fs.fs_uuid, fs_type: fs.fs_type,
          kernel_release: k.release, boot_id: k.boot_id, started_at: new Date().toISOString(), duration_ms: 1, bytes_written: 0, iterations: 1,
          reproductions: 0, engines: ['aio'], modes: ['alloc'], runs: [], reason: null,
        };
        return Promise.resolve(report);
      }).report;
    const server = await startServer(options({ socketPath: null, selfTest, limits: { selftestRateMax: 1 } }));
    try {
      const post = { method: 'POST', body: JSON.stringify({ path: root }) };
      const first = await get(server.port!, '/v1/selftest', post);
      assert.equal(first.status, 200, first.body);
      const second = await get(server.port!, '/v1/selftest', post);
      assert.equal(second.status, 429, second.body);
    } finally {
      await server.close();
    }
  });

  test('graceful close: a request in flight over TLS completes, new connections are refused', async () => {
    let entered = 0;
    const slowJudge = async (req: JudgeRequest, ctx: JudgeContext): Promise<Judgement> => {
      entered += 1;
      await new Promise((r) => setTimeout(r, 400));
      return judge(req, ctx);
    };
    const server = await startServer(options({ socketPath: null, judge: slowJudge }));
    const inFlight = get(server.port!, decisionUrl(root));
    let failed: unknown = null;
    inFlight.catch((err: unknown) => (failed = err));
    for (let i = 0; i < 1000 && entered < 1 && failed === null; i++) await new Promise((r) => setTimeout(r, 10));
    if (entered < 1) {
      await server.close();
      assert.fail(`the request over TLS never reached the service: ${String(failed)}`);
    }
    const closed = server.close();
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(get(server.port!, '/livez'), { code: 'ECONNREFUSED' });
    const r = await inFlight;
    assert.equal(r.status, 200, r.body);
    await closed;
  });
});

describe('xfsguard serve with TLS (the built CLI)', { skip: NO_OPENSSL ?? false }, () => {
  const serveArgs = (...extra: string[]) => ['serve', '--no-socket', '--port', '0', '--policy', policyFile, '--token-file', tokenFile, '--state-dir', path.join(base, 'state'), ...extra];

  /** Exit 2 with one line on stderr, no stack trace. */
  function refuses(args: string[], message: RegExp): void {
    // SIGKILL at the timeout: a serve that starts after all must not keep the test waiting
    const r = runCli(args, { timeout: 30_000, killSignal: 'SIGKILL' });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.match(r.stderr, message);
  }

  test('--allow-remote without --tls-cert/--tls-key exits 2', () => {
    refuses(serveArgs('--host', '0.0.0.0', '--allow-remote'), /0\.0\.0\.0 .*needs TLS \(--tls-cert and --tls-key\)/);
    refuses(serveArgs('--host', '0.0.0.0'), /--allow-remote, with --tls-cert and --tls-key/);
  });

  test('certificate and key go together; TLS needs TCP; a client CA needs TLS', () => {
    refuses(serveArgs('--tls-cert', f('server.pem')), /--tls-cert and --tls-key go together; got only --tls-cert/);
    refuses(serveArgs('--tls-key', f('server.key')), /got only --tls-key/);
    refuses(serveArgs('--tls-client-ca', f('client-ca.pem')), /--tls-client-ca needs --tls-cert and --tls-key/);
    refuses(['serve', '--socket', path.join(base, 'x.sock'), '--policy', policyFile, '--tls-cert', f('server.pem'), '--tls-key', f('server.key')], /are for TCP/);
  });

  test('a world-readable key, a missing one, a key of another certificate, or a file that is no certificate: exit 2, one line', () => {
    const open = f('open.key');
    writeFileSync(open, read('server.key'), { mode: 0o644 });
    chmodSync(open, 0o644);
    refuses(serveArgs('--tls-cert', f('server.pem'), '--tls-key', open), /--tls-key .*open\.key is readable by every user/);
    refuses(serveArgs('--tls-cert', f('server.pem'), '--tls-key', f('absent.key')), /--tls-key .*absent\.key cannot be read \(ENOENT\)/);
    refuses(serveArgs('--tls-cert', f('server.pem'), '--tls-key', f('client.key')), /--tls-key .*client\.key does not belong to the certificate/);
    refuses(serveArgs('--tls-cert', f('server.key'), '--tls-key', f('server.key')), /--tls-cert .*server\.key is not a PEM certificate/);
    const certAsKey = f('cert-as.key');
    writeFileSync(certAsKey, read('server.pem'), { mode: 0o600 });
    refuses(serveArgs('--tls-cert', f('server.pem'), '--tls-key', certAsKey), /--tls-key .*cert-as\.key is not an unencrypted PEM private key/);
    refuses(serveArgs('--tls-cert', f('server.pem'), '--tls-key', f('server.key'), '--tls-client-ca', f('ca.cnf')), /--tls-client-ca .*ca\.cnf is not a PEM certificate/);
    refuses(serveArgs('--tls-cert', certs, '--tls-key', f('server.key')), /--tls-cert .*certs cannot be read \(ENOTREG\)/);
  });

  test('curl --cacert with the bearer token gets a decision from `xfsguard serve --tls-cert --tls-key`', { skip: spawnSync('sh', ['-c', 'command -v curl']).status === 0 ? false : 'curl is not installed' }, async () => {
    const proc = spawn(process.execPath, [CLI, ...serveArgs('--tls-cert', f('server.pem'), '--tls-key', f('server.key'))], {
      cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NOTIFY_SOCKET: '' },
    });
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    try {
      let out = '';
      let err = '';
      proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      proc.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
      for (let i = 0; i < 300 && !/"msg":"ready"/.test(out) && proc.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
      const ready = out.split('\n').find((l) => l.includes('"msg":"ready"'));
      assert.ok(ready !== undefined, `stdout: ${out}\nstderr: ${err}`);
      const [address] = (JSON.parse(ready) as { addresses: string[] }).addresses;
      assert.match(address!, /^https:\/\/127\.0\.0\.1:[0-9]+$/);
      const curl = (...args: string[]) =>
        new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
          execFile('curl', ['-sS', '-m', '10', ...args], { encoding: 'utf8' }, (e, stdout, stderr) => resolve({ code: e === null ? 0 : Number(e.code), stdout, stderr }));
        });
      const url = `${address}/v1/decision?path=${encodeURIComponent(root)}`;
      const ok = await curl('--cacert', f('ca.pem'), '-H', `Authorization: Bearer ${TOKEN}`, '-w', '\n%{http_code}', url);
      assert.equal(ok.code, 0, ok.stderr);
      const [body, status] = [ok.stdout.slice(0, ok.stdout.lastIndexOf('\n')), ok.stdout.slice(ok.stdout.lastIndexOf('\n') + 1)];
      assert.equal(status, '200', body);
      assert.equal((JSON.parse(body) as { judged_directory: string }).judged_directory, root);
      // curl without the CA refuses the server (60: peer certificate cannot be authenticated)
      assert.equal((await curl(url)).code, 60);
      proc.kill('SIGTERM');
      assert.equal(await exited, 0, err);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  });
});
