// Real systemd (PID 1 in the test VM, run.sh -s) runs the installed units, and real libvirtd (the
// host's Debian package, enabled in the VM) runs the installed hook, on the broken kernel: what
// `systemd-analyze verify` cannot show. One boot; the guest script is test/vm/guest-systemd.sh.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { BROKEN_KERNEL, runInVm, vmUnavailable } from './helpers/vm.js';

/** The guest's "@@sd KEY BASE64" lines, decoded. */
function results(output: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of output.matchAll(/^@@sd (\S+) (\S*)\s*$/gm)) out.set(m[1] as string, Buffer.from(m[2] as string, 'base64').toString('utf8'));
  return out;
}

/** "Key=Value Key=Value" from `systemctl show`. */
function props(text: string | undefined): Record<string, string> {
  return Object.fromEntries([...(text ?? '').matchAll(/(\w+)=(\S*)/g)].map((m) => [m[1] as string, m[2] as string]));
}

const libvirtMissing = ['/usr/sbin/libvirtd', '/usr/bin/virsh'].some((f) => spawnSync('test', ['-x', f]).status !== 0)
  ? 'Debian\'s libvirt is not installed on the host (apt-get install libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients)' : null;
const why = vmUnavailable() ?? libvirtMissing;

test('systemd runs the units (order, notify, hardening, timer, journal, stop) and libvirtd runs the hook, on the broken kernel', { skip: why ?? false, timeout: 1_200_000 }, async (t) => {
  const run = await runInVm(BROKEN_KERNEL, 'sh test/vm/guest-systemd.sh', { runArgs: ['-s', '-t', '1000'], timeoutMs: 1_100_000 });
  const r = results(run.output);
  const tail = `exit ${run.code}; output:\n${run.output.slice(-4000)}`;
  t.diagnostic(`VM run ${run.ms} ms; install --enable ${r.get('install_ms')} ms; service self-test ${r.get('selftest_ms')} ms; ${r.get('security')}`);
  for (const k of ['virsh_log', 'virsh_enforce', 'virsh_buffered']) t.diagnostic(`${k}: ${(r.get(k) ?? '').split(' out=')[0]}`);
  assert.equal(r.get('uname'), '6.1.192-xfsrace', tail);
  assert.equal(r.get('install_rc'), '0', r.get('install_out'));

  // The boot check (oneshot) finished and stored "affected"; the API is Type=notify and running.
  assert.deepEqual({ ...props(r.get('boot_show')) }, { Type: 'oneshot', Result: 'success', ExecMainStatus: '0', ActiveState: 'active', SubState: 'exited' });
  const api = props(r.get('api_show'));
  assert.equal(api.Type, 'notify');
  assert.equal(api.ActiveState, 'active');
  assert.equal(api.SubState, 'running', 'READY=1 reached systemd (a notify unit stays "activating" without it)');
  assert.equal(r.get('sock_mode'), '660 socket');
  assert.match(r.get('boot_json') ?? '', /"verdict": "affected"/);

  // Hardening, with a real self-test run by the service under it.
  const status = r.get('proc_status') ?? '';
  assert.match(status, /^Seccomp:\s+2$/m, 'the syscall filter is active');
  assert.match(status, /^NoNewPrivs:\s+1$/m);
  assert.match(status, /^CapBnd:\s+0+6$/m, 'bounding set: CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH only');
  const selftest = JSON.parse(r.get('selftest') ?? '{}') as { report?: { outcome?: string; runs?: { engine: string; outcome?: string }[] } };
  assert.equal(selftest.report?.outcome, 'reproduced', `the self-test ran under seccomp/ProtectSystem and reproduced the race: ${r.get('selftest')?.slice(0, 2000)}`);
  const decision = JSON.parse(r.get('decision') ?? '{}') as { verdict?: string };
  assert.equal(decision.verdict, 'affected');
  t.diagnostic(`loopback TCP /livez (IPAddressDeny=any, IPAddressAllow=localhost): ${r.get('tcp_livez')}`);

  // Ordering: the boot check finished before libvirtd started, also when it failed, and never blocked it.
  for (const [name, result] of [['order_ok', 'success'], ['order_failing', 'exit-code']] as const) {
    const o = props(r.get(name));
    assert.ok(Number(o.boot_exit) > 0 && Number(o.boot_exit) <= Number(o.libvirtd_start), `${name}: boot check ended before libvirtd started: ${r.get(name)}`);
    assert.equal(o.libvirtd, 'active', name);
    assert.equal(o.Result, result, name);
  }

  // libvirtd ran the hook: log mode starts and logs, enforce refuses with the reason in virsh's
  // error, a writeback/threads disk is not asked about.
  assert.match(r.get('hook_file') ?? '', /50-xfsguard/);
  assert.match(r.get('virsh_log') ?? '', /^rc=0 .*state=running/);
  const enforce = r.get('virsh_enforce') ?? '';
  assert.match(enforce, /^rc=1 /, enforce);
  assert.match(enforce, /Hook script execution failed/i);
  assert.match(enforce, /xfsguard: refusing to start domain vm-enforce: XFS fallocate vs AIO\+DIO race: disk vda \(\/mnt\/xfs\/images\/vm\.qcow2, io=native\): verdict affected \(selftest_reproduced: /);
  assert.match(r.get('virsh_buffered') ?? '', /^rc=0 .*state=running/);
  const journal = r.get('hook_journal') ?? '';
  assert.match(journal, /domain vm-log: disk vda \(\/mnt\/xfs\/images\/vm\.qcow2, io=native\): verdict affected, workaround needed: selftest_reproduced: .* \[via (service|in-process \(.*\))\]/);
  assert.match(journal, /domain vm-wb: not checked: vda: io=threads/);
  assert.doesNotMatch(journal, /domain vm-wb: disk vda/);

  // The refresh timer and service, the journal, stop removing the socket.
  assert.equal(props(r.get('timer_show')).ActiveState, 'active');
  assert.equal(props(r.get('timer_show')).SubState, 'waiting');
  assert.match(r.get('refresh') ?? '', /^rc=0 .*Result=success/);
  assert.match(r.get('journal_boot') ?? '', /\/mnt\/xfs\/images/);
  assert.notEqual((r.get('journal_api') ?? '').trim(), '', 'the service logs to the journal');
  assert.match(r.get('after_stop') ?? '', /ActiveState=inactive\s+sock=absent\s+rundir=absent/);
  assert.match(r.get('restarted') ?? '', /ActiveState=active\s+SubState=running\s+sock=present/);
});
