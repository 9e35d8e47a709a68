// What the libvirt hook costs a VM start: the installed shim (service/hooks/libvirt-qemu) run as
// libvirt runs it at "prepare", with a domain of two qualifying disks (io=native and io_uring,
// cache=none), answered by a running `xfsguard serve` on its unix socket, and by the in-process
// fallback (no socket), against `sh -c true` (libvirt's own cost of running any hook) and a bare
// `node -e 0`, all measured in the same run. Also checks the two ways give the same verdicts.
// Prints numbers; asserts only that verdicts agree (this machine is shared and noisy).
//   npx tsx test/bench/hook-bench.ts [DIR] [--runs N]     (DIR: where the images are; default a tmp dir)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CLI, REPO_ROOT } from '../helpers/run-cli.js';

const { values, positionals } = parseArgs({ options: { runs: { type: 'string', default: '20' } }, allowPositionals: true });
const runs = Number(values.runs);
const work = mkdtempSync(path.join('/var/tmp', 'xfsguard-hook-bench-'));
const images = positionals[0] ?? path.join(work, 'images');
mkdirSync(images, { recursive: true });
const HOOK = path.join(REPO_ROOT, 'service', 'hooks', 'libvirt-qemu');
const xfsguard = path.join(work, 'xfsguard');
writeFileSync(xfsguard, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`, { mode: 0o755 });
const policy = path.join(work, 'policy.json');
writeFileSync(policy, JSON.stringify({ allowed_roots: [images] }));
const state = path.join(work, 'state');
const sock = path.join(work, 'xfsguard.sock');
const disk = (dev: string, file: string, io: string) =>
  `<disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none' io='${io}'/><source file='${images}/${file}'/><target dev='${dev}' bus='virtio'/></disk>`;
const domainXml = `<domain type='qemu'><name>bench</name><devices>${disk('vda', 'root.qcow2', 'native')}${disk('vdb', 'data.qcow2', 'io_uring')}</devices></domain>`;
const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', XFSGUARD_HOOK_CONF: '/nonexistent', XFSGUARD_HOOK_XFSGUARD: xfsguard, XFSGUARD_HOOK_SYSLOG: '0', XFSGUARD_POLICY: policy, XFSGUARD_STATE_DIR: state };

function time(cmd: string, args: string[], env: NodeJS.ProcessEnv, input = ''): { ms: number[]; stderr: string } {
  const ms: number[] = [];
  let stderr = '';
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { env, input, encoding: 'utf8' });
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
    stderr = r.stderr;
  }
  return { ms: ms.sort((a, b) => a - b), stderr };
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const verdicts = (stderr: string) => stderr.split('\n').filter((l) => / verdict /.test(l)).map((l) => l.replace(/ \[via .*\]$/, '')).sort();

// The service, as xfsguard.service runs it (its self-test for the images' filesystem stored first).
spawnSync(process.execPath, [CLI, 'check', '--policy', policy, '--state-dir', state, images], { stdio: 'ignore' });
const serve = spawn(process.execPath, [CLI, 'serve', '--socket', sock, '--policy', policy, '--state-dir', state, '--log-level', 'warn'], { stdio: 'ignore' });
try {
  for (let i = 0; i < 300 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 100));
  if (!existsSync(sock)) throw new Error('xfsguard serve did not listen');
  const args = ['bench', 'prepare', 'begin', '-'];
  const baseline = time('sh', ['-c', 'true'], baseEnv);
  const node = time(process.execPath, ['-e', '0'], baseEnv);
  const viaSocket = time(HOOK, args, { ...baseEnv, XFSGUARD_HOOK_SOCKET: sock }, domainXml);
  const inProcess = time(HOOK, args, { ...baseEnv, XFSGUARD_HOOK_SOCKET: '' }, domainXml);
  const other = time(HOOK, ['bench', 'release', 'end', '-'], baseEnv, domainXml);
  const line = (name: string, xs: number[]) => console.log(`${name.padEnd(34)} median ${pct(xs, 50).toFixed(1).padStart(7)} ms  p90 ${pct(xs, 90).toFixed(1).padStart(7)} ms`);
  console.log(`runs: ${runs}, images: ${images}, two qualifying disks (io=native, io=io_uring; cache=none)`);
  line('sh -c true (baseline)', baseline.ms);
  line('node -e 0', node.ms);
  line('hook, other phase (release)', other.ms);
  line('hook prepare, service running', viaSocket.ms);
  line('hook prepare, in-process fallback', inProcess.ms);
  const cost = pct(viaSocket.ms, 50) - pct(baseline.ms, 50);
  console.log(`hook cost per VM start (median, service running, minus baseline): ${cost.toFixed(1)} ms (goal <= 50 ms: ${cost <= 50 ? 'met' : 'missed'}); of which bare node start ${(pct(node.ms, 50) - pct(baseline.ms, 50)).toFixed(1)} ms`);
  console.log(`in-process fallback cost: ${(pct(inProcess.ms, 50) - pct(baseline.ms, 50)).toFixed(1)} ms; ratio fallback/service ${(pct(inProcess.ms, 50) / pct(viaSocket.ms, 50)).toFixed(2)}`);
  const a = verdicts(viaSocket.stderr);
  const b = verdicts(inProcess.stderr);
  console.log(`verdicts via service:    ${JSON.stringify(a)}`);
  const same = JSON.stringify(a) === JSON.stringify(b) && a.length === 2;
  console.log(`verdicts identical socket vs fallback: ${same ? 'yes' : `NO: ${JSON.stringify(b)}`}`);
  if (!same) process.exitCode = 1;
} finally {
  serve.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
