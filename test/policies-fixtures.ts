// Small factories for the policy tests: facts as the probes would produce them.
import type { DecisionInput } from '../policies/decide.js';
import { loadKnowledgeBase } from '../policies/knowledge-base.js';
import { defaultPolicy, type OperatorPolicy } from '../policies/operator-policy.js';
import type { FilesystemFacts, FsClass, KernelFacts, SelfTestEvidence, SelfTestReport } from '../probes/types.js';

export const KB = loadKnowledgeBase();
export const BOOT = '3f0c2b8e-1d2a-4c55-9a7e-0d6a7f1b2c3d';
export const DEVICE = '253:2';
export const UUID = 'a1b2c3d4-0000-4000-8000-000000000001';

const MAGIC: Record<string, [number, FsClass]> = {
  xfs: [0x58465342, 'local'],
  ext4: [0xef53, 'local'],
  btrfs: [0x9123683e, 'local'],
  tmpfs: [0x01021994, 'local'],
  zfs: [0x2fc12fc1, 'local'],
  nfs: [0x6969, 'network'],
  cifs: [0xff534d42, 'network'],
  ceph: [0x00c36400, 'network'],
  '9p': [0x01021997, 'network'],
  fuse: [0x65735546, 'fuse'],
  overlay: [0x794c7630, 'overlay'],
  proc: [0x9fa0, 'pseudo'],
  sysfs: [0x62656572, 'pseudo'],
  unknown: [0x12345678, 'unknown'],
};

export function fsFacts(fsType: string, over: Partial<FilesystemFacts> = {}): FilesystemFacts {
  const [magic, cls] = MAGIC[fsType] ?? [0xdeadbeef, 'local'];
  return {
    requested_path: '/var/lib/libvirt/images/vm1.qcow2',
    judged_directory: '/var/lib/libvirt/images',
    path_kind: 'file',
    magic,
    magic_hex: `0x${magic.toString(16)}`,
    fs_type: fsType,
    fs_class: cls,
    device: DEVICE,
    fs_uuid: UUID,
    block_size: 4096,
    free_bytes: 10 * 2 ** 30,
    read_only: false,
    mount: {
      mount_id: 42,
      mount_point: '/var/lib/libvirt/images',
      device: DEVICE,
      fs_type: fsType,
      source: '/dev/mapper/vg-images',
      options: ['rw'],
      super_options: ['rw'],
    },
    overlay_upper: null,
    notes: [],
    ...over,
  };
}

export function kernelFacts(release: string, over: Partial<KernelFacts> = {}): KernelFacts {
  return {
    release,
    version: '#1 SMP PREEMPT_DYNAMIC',
    version_signature: null,
    upstream: null,
    distro: null,
    boot_id: BOOT,
    ...over,
  };
}

export function selftest(
  outcome: SelfTestReport['outcome'],
  over: Partial<SelfTestReport> = {},
  kernelRelease = '6.1.192-xfsrace',
): SelfTestEvidence {
  const iterations = over.iterations ?? (outcome === 'unsupported' ? 0 : 1000);
  return {
    cached: false,
    age_ms: 0,
    report: {
      format_version: 1,
      outcome,
      directory: '/var/lib/libvirt/images',
      device: DEVICE,
      fs_uuid: UUID,
      fs_type: 'xfs',
      kernel_release: kernelRelease,
      boot_id: BOOT,
      started_at: '2026-11-24T10:00:00.000Z',
      duration_ms: 1500,
      bytes_written: 8 * 1024 * 1024,
      iterations,
      reproductions: outcome === 'reproduced' ? 37 : 0,
      engines: outcome === 'unsupported' ? [] : ['aio', 'io_uring'],
      modes: outcome === 'unsupported' ? [] : ['zero-range', 'alloc'],
      runs: [],
      reason: outcome === 'unsupported' ? 'open_o_direct: EINVAL' : null,
      ...over,
    },
  };
}

export function policy(over: Partial<OperatorPolicy> = {}): OperatorPolicy {
  return { ...defaultPolicy(), ...over };
}

export function input(over: Partial<DecisionInput> & { release?: string } = {}): DecisionInput {
  const { release, ...rest } = over;
  return {
    filesystem: fsFacts('xfs'),
    kernel: kernelFacts(release ?? '6.1.192-xfsrace'),
    selftest: null,
    io_mode: null,
    policy: policy(),
    knowledge_base: KB,
    xfsguard_version: '0.1.0-test',
    ...rest,
  };
}
