// Remedies as data: from the facts of a decision, the settings an orchestrator can change so its
// VMs are not exposed to the XFS fallocate vs AIO+DIO size race — one per platform, each with the
// exact key and value, and whether QEMU on this host makes it unnecessary or it is not enough.
// Pure: no I/O. The QEMU versions and the below-range self-test outcome come from the caller.
import type { RaceOutcome } from '../native/types.js';
import type { FsClass, IoMode } from '../probes/types.js';
import { compareUpstream, parseUpstream } from './vercmp.js';

export type RemedyPlatform = 'libvirt' | 'kubevirt' | 'proxmox' | 'openstack_nova' | 'qemu';

/** What a remedy changes: asynchronous O_DIRECT writes become synchronous (threads) or buffered (writeback), or QEMU serialises. */
export type RemedyKind = 'io_threads' | 'cache_writeback' | 'qemu_workaround';

/** Whether applying this remedy is needed on this host, given its QEMU and the self-test. */
export type RemedyNeed = 'needed' | 'unnecessary' | 'unknown';

export interface RemedySetting {
  /** Where the setting lives: a config file, an XML/YAML location, or a command-line option. */
  location: string;
  key: string;
  value: string;
}

export interface Remedy {
  /** Stable id, e.g. libvirt_io_threads. */
  id: string;
  platform: RemedyPlatform;
  kind: RemedyKind;
  /** disk: per VM disk (for the disks at this path); host: for every VM of the host. */
  scope: 'disk' | 'host';
  setting: RemedySetting;
  /** A ready-to-paste example. */
  snippet: string;
  /** Whether this remedy alone keeps the disks out of the race on this host. */
  sufficient: boolean;
  need: RemedyNeed;
  /** Why need and sufficient are what they are (host QEMU, self-test). */
  qemu_note: string;
  detail: string;
}

/** The host's QEMU: the versions of the QEMU system emulators found (probes/qemu.ts), or null when not probed. */
export interface HostQemu {
  versions: readonly string[];
}

export interface RemedyFacts {
  enable_workaround: boolean;
  /** Class of the filesystem that takes the writes (the overlay's upper layer when resolved). */
  fs_class: FsClass;
  fs_type: string;
  io_mode: IoMode | null;
  /**
   * The self-test case with an extending write in flight BELOW a beyond-EOF ZERO_RANGE (contract C1):
   * 'reproduced' means QEMU's own serialising workaround does not suffice on this kernel.
   */
  below_range_outcome?: RaceOutcome | null;
  host_qemu?: HostQemu | null;
}

/** QEMU 4.1.1 / 4.2.0 serialise post-EOF write-zeroes (292d06b925b2); 4.1.0 raced, as does a build without it. */
export const QEMU_WORKAROUND_FROM = '4.1.1';

type QemuState = 'all_have_workaround' | 'some_lack_workaround' | 'unknown';

function qemuState(q: HostQemu | null | undefined): { state: QemuState; text: string } {
  if (q === null || q === undefined || q.versions.length === 0) {
    return { state: 'unknown', text: 'the host\'s QEMU version is not known' };
  }
  // "7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)" → 7.2.19: the upstream version leads
  const parsed = q.versions.map((v) => ({ v, p: parseUpstream(/^\d+\.\d+(?:\.\d+)?/.exec(v.trim())?.[0] ?? '') }));
  const old = parsed.filter((x) => x.p !== null && compareUpstream(x.p, QEMU_WORKAROUND_FROM) < 0).map((x) => x.v);
  const unreadable = parsed.filter((x) => x.p === null).map((x) => x.v);
  if (old.length > 0) return { state: 'some_lack_workaround', text: `QEMU ${old.join(', ')} on this host predates ${QEMU_WORKAROUND_FROM} and does not serialise` };
  if (unreadable.length > 0) return { state: 'unknown', text: `QEMU version ${unreadable.join(', ')} could not be read` };
  return { state: 'all_have_workaround', text: `QEMU ${q.versions.join(', ')} on this host serialises post-EOF write-zeroes (≥ ${QEMU_WORKAROUND_FROM})` };
}

interface Template {
  id: string;
  platform: RemedyPlatform;
  kind: Exclude<RemedyKind, 'qemu_workaround'>;
  scope: 'disk' | 'host';
  setting: RemedySetting;
  snippet: string;
  detail: string;
}

const SETTINGS: readonly Template[] = [
  {
    id: 'libvirt_io_threads',
    platform: 'libvirt',
    kind: 'io_threads',
    scope: 'disk',
    setting: { location: "domain XML /domain/devices/disk[@type='file' or @type='volume']/driver", key: 'io', value: 'threads' },
    snippet: "<driver name='qemu' type='qcow2' cache='none' io='threads'/>",
    detail: 'virsh edit the domain: io=\'threads\' on the driver of each disk at this path (takes effect at the next start)',
  },
  {
    id: 'libvirt_cache_writeback',
    platform: 'libvirt',
    kind: 'cache_writeback',
    scope: 'disk',
    setting: { location: "domain XML /domain/devices/disk[@type='file' or @type='volume']/driver", key: 'cache', value: 'writeback' },
    snippet: "<driver name='qemu' type='qcow2' cache='writeback'/>",
    detail: 'or cache=\'writeback\' (and no io=\'native\'): buffered I/O, which the race cannot hit; costs host page cache and needs guest flushes',
  },
  {
    id: 'kubevirt_io_threads',
    platform: 'kubevirt',
    kind: 'io_threads',
    scope: 'disk',
    setting: { location: 'VirtualMachine spec.template.spec.domain.devices.disks[]', key: 'io', value: 'threads' },
    snippet: 'disks:\n- name: rootdisk\n  io: threads\n  disk: {bus: virtio}',
    detail: 'KubeVirt picks io=native for block volumes and preallocated images: set io: threads on those disks (the VMI restarts)',
  },
  {
    id: 'proxmox_aio_threads',
    platform: 'proxmox',
    kind: 'io_threads',
    scope: 'disk',
    setting: { location: '/etc/pve/qemu-server/VMID.conf, each scsiN/virtioN/sataN/ideN disk', key: 'aio', value: 'threads' },
    snippet: 'qm set VMID --scsi0 local:VMID/vm-VMID-disk-0.qcow2,aio=threads',
    detail: 'Proxmox VE defaults to aio=io_uring with cache=none: set aio=threads on the disks at this path',
  },
  {
    id: 'openstack_nova_disk_cachemodes_writeback',
    platform: 'openstack_nova',
    kind: 'cache_writeback',
    scope: 'host',
    setting: { location: '/etc/nova/nova.conf [libvirt]', key: 'disk_cachemodes', value: 'file=writeback' },
    snippet: '[libvirt]\ndisk_cachemodes = file=writeback',
    detail: 'nova uses io=\'native\' with cache=none for file-backed disks: writeback makes them buffered (restart nova-compute; applies to instances started afterwards)',
  },
  {
    id: 'qemu_aio_threads',
    platform: 'qemu',
    kind: 'io_threads',
    scope: 'disk',
    setting: { location: 'qemu-system-* -drive / -blockdev file driver', key: 'aio', value: 'threads' },
    snippet: '-blockdev driver=file,filename=/path/disk.qcow2,aio=threads,cache.direct=on,node-name=f0',
    detail: 'on the QEMU command line: aio=threads instead of aio=native or aio=io_uring',
  },
];

/** Remedies apply where the host's own writes reach the filesystem: a local (or overlay-on-local) one. */
function localWrites(f: RemedyFacts): boolean {
  return f.fs_class === 'local' || f.fs_class === 'overlay';
}

/**
 * The remedies for a decision's facts: none when the workaround is not needed. With it needed on a
 * local filesystem: aio=threads / cache=writeback per platform (sufficient on their own, whatever
 * QEMU does) and keeping QEMU's own workaround (sufficient unless the below-range case reproduced).
 * On network or FUSE storage only QEMU's workaround: the client's I/O mode does not decide how the
 * server writes to its filesystem.
 */
export function remediesFor(f: RemedyFacts): Remedy[] {
  if (!f.enable_workaround) return [];
  const qemu = qemuState(f.host_qemu);
  const belowReproduced = f.below_range_outcome === 'reproduced';
  const out: Remedy[] = [];

  if (localWrites(f)) {
    let need: RemedyNeed;
    let note: string;
    if (belowReproduced) {
      need = 'needed';
      note = 'needed whatever the QEMU version: the self-test reproduced the race with the extending write below the zero range, which QEMU\'s serialisation does not cover';
    } else if (qemu.state === 'some_lack_workaround') {
      need = 'needed';
      note = `needed: ${qemu.text}`;
    } else if (qemu.state === 'all_have_workaround') {
      need = 'unnecessary';
      note = `not needed while QEMU keeps its workaround: ${qemu.text}; needed with QEMU < ${QEMU_WORKAROUND_FROM} or a build without it, or if the below-range self-test case reproduces`;
    } else {
      need = 'unknown';
      note = `${qemu.text}: not needed with QEMU ≥ ${QEMU_WORKAROUND_FROM} unless the below-range self-test case reproduces; needed below it`;
    }
    for (const t of SETTINGS) {
      const already = t.kind === 'io_threads' && f.io_mode === 'threads';
      out.push({ ...t, setting: { ...t.setting }, sufficient: true, need: already ? 'unnecessary' : need, qemu_note: already ? 'aio=threads is already the I/O mode asked about' : note });
    }
  }

  let sufficient: boolean;
  let need: RemedyNeed;
  let note: string;
  if (belowReproduced) {
    sufficient = false;
    need = 'needed';
    note = 'insufficient on this kernel: the self-test reproduced the race with the extending write below the zero range, which QEMU\'s serialisation does not cover; use aio=threads, cache=writeback or a fixed kernel';
  } else if (qemu.state === 'some_lack_workaround') {
    sufficient = true;
    need = 'needed';
    note = `${qemu.text}: upgrade QEMU to ≥ ${QEMU_WORKAROUND_FROM}`;
  } else {
    sufficient = true;
    need = qemu.state === 'all_have_workaround' ? 'unnecessary' : 'unknown';
    note = qemu.state === 'all_have_workaround' ? `already in place: ${qemu.text}` : `${qemu.text}: make sure it is ≥ ${QEMU_WORKAROUND_FROM}`;
  }
  out.push({
    id: 'qemu_keep_workaround',
    platform: 'qemu',
    kind: 'qemu_workaround',
    scope: 'host',
    setting: { location: 'the host\'s QEMU package', key: 'version', value: `>= ${QEMU_WORKAROUND_FROM}` },
    snippet: `qemu-system-x86_64 --version   # ${QEMU_WORKAROUND_FROM} or newer, a build that keeps 292d06b925b2`,
    sufficient,
    need,
    qemu_note: note,
    detail: 'QEMU ≥ 4.1.1 / 4.2.0 serialises post-EOF write-zeroes itself: keep it (never QEMU 4.1.0 or a build that drops the workaround)',
  });
  return out;
}

/** One line per remedy, for `xfsguard explain`. */
export function renderRemedies(remedies: readonly Remedy[]): string[] {
  return remedies.map((r) => {
    const flags = `${r.need}${r.sufficient ? '' : ', not sufficient alone'}`;
    return `[${r.id}] ${r.platform}: ${r.setting.key}=${r.setting.value} at ${r.setting.location} (${flags}) — ${r.qemu_note}`;
  });
}
