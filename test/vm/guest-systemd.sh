#!/bin/sh
# Runs inside a test VM in systemd mode (run.sh -s: real systemd as PID 1, libvirtd enabled):
#  1. `xfsguard install --libvirt-hook --enable` with a policy naming /mnt/xfs/images (the VM's
#     XFS): the boot check, the hardened Type=notify service and the refresh timer under systemd;
#  2. a real self-test run by the hardened service (POST /v1/selftest), its process's seccomp,
#     capability bounding set and the unit's security score;
#  3. ordering: xfsguard-boot.service and libvirtd.service started in one transaction, then again
#     with a boot check that fails (bad policy): libvirtd must start after it, and start anyway;
#  4. the refresh timer and service, the journal, `systemctl stop` removing the socket;
#  5. libvirtd runs the installed hook: a transient 64 MiB TCG domain with a qcow2 disk on the XFS
#     (io=native, cache=none) in log mode, in enforce mode, and a writeback/threads disk.
# Prints "@@sd KEY BASE64" lines (the value's raw text). Usage: sh test/vm/guest-systemd.sh
set -u
ms() { date +%s%3N; }
t_start=$(ms)
emit() { printf '@@sd %s %s\n' "$1" "$(printf '%s' "$2" | base64 -w0)"; printf '@@sd-at %s %s\n' "$1" $(($(ms) - t_start)); }
show() { systemctl show "$@" 2>&1 | tr '\n' ' '; }
sock=/run/xfsguard/xfsguard.sock
w=/tmp/sd
mkdir -p "$w" /mnt/xfs/images /etc/xfsguard
emit uname "$(uname -r)"
emit system "$(systemctl is-system-running 2>&1)"
good_policy='{"allowed_roots": ["/mnt/xfs/images", "/var/lib/libvirt/images"]}'
printf '%s\n' "$good_policy" >/etc/xfsguard/policy.json

if [ "${ONLY:-}" = libvirt ]; then
  # Only the hook under libvirtd: the self-test stored by a boot check run by hand, no units.
  node dist/service/cli/xfsguard.js install --libvirt-hook >"$w/install.out" 2>&1
  emit install_rc $?
  node dist/service/cli/xfsguard.js boot-check >/dev/null 2>&1
  emit boot_rc $?
  systemctl restart libvirtd.service
else
# 1. install and enable (enable --now waits for the oneshot boot check and for READY=1)
  t0=$(ms)
  node dist/service/cli/xfsguard.js install --libvirt-hook --enable >"$w/install.out" 2>&1
  emit install_rc $?
  emit install_ms $(($(ms) - t0))
  emit install_out "$(cat "$w/install.out")"
  emit boot_show "$(show -p Type,ActiveState,SubState,Result,ExecMainStatus xfsguard-boot.service)"
  emit api_show "$(show -p Type,ActiveState,SubState,Result,NRestarts,StatusText xfsguard.service)"
  emit timer_show "$(show -p ActiveState,SubState,NextElapseUSecMonotonic xfsguard-refresh.timer)"
  emit sock_mode "$(stat -c '%a %F' "$sock" 2>&1)"
  emit boot_json "$(cat /var/lib/xfsguard/boot-check.json 2>&1)"
  
  # 2. a self-test run by the hardened service, and what the hardening left it
  pid=$(systemctl show -p MainPID --value xfsguard.service)
  emit proc_status "$(grep -E '^(CapBnd|CapEff|Seccomp|NoNewPrivs):' "/proc/$pid/status" 2>&1)"
  t0=$(ms)
  curl -s --max-time 300 --unix-socket "$sock" -H 'content-type: application/json' -d '{"path":"/mnt/xfs/images","iterations":50}' http://x/v1/selftest >"$w/selftest.json" 2>&1
  emit selftest_ms $(($(ms) - t0))
  emit selftest "$(cat "$w/selftest.json")"
  emit decision "$(curl -s --max-time 60 --unix-socket "$sock" 'http://x/v1/decision?path=/mnt/xfs/images/vm.qcow2&aio=native&selftest=never')"
  emit tcp_livez "$(curl -s --max-time 10 http://127.0.0.1:8470/livez 2>&1)"
  emit security "$(systemd-analyze security xfsguard.service 2>&1 | tail -1)"
  
  # 3. ordering: one transaction with both units; then with a failing boot check
  order() {
    systemctl stop libvirtd.service libvirtd.socket libvirtd-ro.socket libvirtd-admin.socket xfsguard-boot.service >/dev/null 2>&1
    systemctl start xfsguard-boot.service libvirtd.service >"$w/order.out" 2>&1
    rc=$?
    b=$(systemctl show -p ExecMainExitTimestampMonotonic --value xfsguard-boot.service)
    l=$(systemctl show -p ExecMainStartTimestampMonotonic --value libvirtd.service)
    emit "order_$1" "start_rc=$rc boot_exit=$b libvirtd_start=$l libvirtd=$(systemctl is-active libvirtd.service) $(show -p Result,ExecMainStatus xfsguard-boot.service) out=$(cat "$w/order.out")"
  }
  order ok
  
fi
# 5. libvirtd runs the hook (it reads hooks at start: order_ok restarted it after install)
emit hook_file "$(ls -l /etc/libvirt/hooks/qemu.d/ 2>&1)"
qemu-img create -q -f qcow2 /mnt/xfs/images/vm.qcow2 16M
qemu-img create -q -f qcow2 /mnt/xfs/images/wb.qcow2 16M
dom() { # NAME IMAGE CACHE IO
  cat <<EOF
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='$3' io='$4'/>
      <source file='$2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
EOF
}
vstart() { # TAG NAME IMAGE CACHE IO
  dom "$2" "$3" "$4" "$5" >"$w/$2.xml"
  t0=$(ms)
  virsh -q create "$w/$2.xml" >"$w/$1.out" 2>&1
  rc=$?
  emit "virsh_$1" "rc=$rc ms=$(($(ms) - t0)) state=$(virsh -q domstate "$2" 2>&1) out=$(cat "$w/$1.out")"
  virsh -q destroy "$2" >/dev/null 2>&1
}
vstart log vm-log /mnt/xfs/images/vm.qcow2 none native
printf 'MODE=enforce\nVERBOSE=1\n' >/etc/xfsguard/hook.conf
vstart enforce vm-enforce /mnt/xfs/images/vm.qcow2 none native
vstart buffered vm-wb /mnt/xfs/images/wb.qcow2 writeback threads
emit hook_journal "$(journalctl -b --no-pager -o cat -t xfsguard-hook 2>&1)"

[ "${ONLY:-}" = libvirt ] && exit 0
# 4. refresh, journal, stop
systemctl start xfsguard-refresh.service
emit refresh "rc=$? $(show -p Result,ExecMainStatus xfsguard-refresh.service)"
emit journal_boot "$(journalctl -b --no-pager -o cat -u xfsguard-boot.service | tail -n 8)"
emit journal_api "$(journalctl -b --no-pager -o cat -u xfsguard.service | head -n 5)"
emit journal_refresh "$(journalctl -b --no-pager -o cat -u xfsguard-refresh.service | tail -n 4)"
systemctl stop xfsguard.service
emit after_stop "$(show -p ActiveState xfsguard.service) sock=$(test -e "$sock" && echo present || echo absent) rundir=$(test -e /run/xfsguard && echo present || echo absent)"
systemctl start xfsguard.service
emit restarted "$(show -p ActiveState,SubState xfsguard.service) sock=$(test -S "$sock" && echo present || echo absent)"


# 3b. a failing boot check does not keep libvirtd from starting
printf '{ not json\n' >/etc/xfsguard/policy.json
order failing
printf '%s\n' "$good_policy" >/etc/xfsguard/policy.json

exit 0
