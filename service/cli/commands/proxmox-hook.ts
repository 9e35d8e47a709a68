// `xfsguard proxmox-hook VMID PHASE`: what the Proxmox VE hookscript runs (through the sh shim
// service/hooks/proxmox-hookscript). At "pre-start" it asks about every exposed disk of the VM,
// read from /etc/pve/qemu-server/VMID.conf with volumes located through /etc/pve/storage.cfg;
// every other phase exits 0 at once. Same settings and exit status as libvirt-hook.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { cannotJudge, checkStart, guarded, REFUSE } from '../../hooks/check-disks.js';
import { loadHookConfig } from '../../hooks/hook-config.js';
import { HookLog } from '../../hooks/hook-log.js';
import { parseStorageCfg } from '../../proxmox/storage-cfg.js';
import { pveDisks } from '../../proxmox/vm-config.js';
import type { CommandIo } from '../command.js';

export const help = `Usage: xfsguard proxmox-hook VMID PHASE

Run by the Proxmox VE hookscript service/hooks/proxmox-hookscript (copy it to a storage with
"snippets" content, e.g. /var/lib/vz/snippets/xfsguard-hook.sh, then
'qm set VMID --hookscript local:snippets/xfsguard-hook.sh'). At PHASE "pre-start" it asks about
every disk of VMID that QEMU opens with O_DIRECT and aio=io_uring|native (Proxmox's defaults:
cache=none, aio=io_uring): files on dir/nfs/cifs/btrfs storages and absolute paths. Other
phases exit 0 at once. Settings as for 'xfsguard libvirt-hook --help' (/etc/xfsguard/hook.conf);
PVE_DIR=/etc/pve names the configuration tree.

Exit codes: 0 start; ${REFUSE} refuse (the shim turns it into 1).`;

export async function run(argv: string[], _io: CommandIo): Promise<number> {
  const [vmid = '?', phase = ''] = argv;
  if (phase !== 'pre-start') return 0;
  const conf = loadHookConfig();
  const log = new HookLog(conf.syslog, conf.logFile);
  const label = `VM ${vmid}`;
  const pve = process.env.XFSGUARD_HOOK_PVE_DIR ?? '/etc/pve';
  return guarded(label, conf, log, async () => {
    if (!/^[0-9]+$/.test(vmid)) return cannotJudge(label, conf, log, 'warning', `${JSON.stringify(vmid)} is not a VM id`);
    let disks;
    try {
      const [config, storage] = await Promise.all([
        readFile(path.join(pve, 'qemu-server', `${vmid}.conf`), 'utf8'),
        readFile(path.join(pve, 'storage.cfg'), 'utf8'),
      ]);
      disks = pveDisks(config, parseStorageCfg(storage));
    } catch (err) {
      return cannotJudge(label, conf, log, 'warning', `cannot read the VM configuration (${(err as Error).message})`);
    }
    if (conf.verbose && disks.skipped.length > 0) log.log('info', `${label}: not checked: ${disks.skipped.join(', ')}`);
    if (disks.exposed.length === 0 && disks.unresolved.length === 0) return 0;
    return checkStart({ label, disks: disks.exposed, unresolved: disks.unresolved }, conf, log);
  });
}
