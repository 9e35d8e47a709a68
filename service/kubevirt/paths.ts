// Where KubeVirt's virt-launcher disks live, inside the pod and on the node: the node paths are what
// xfsguard must judge (the filesystem QEMU writes to with O_DIRECT), the pod paths are what the
// domain XML names. Data, plus the mapping from a launcher volume to its node path.
import path from 'node:path';

export const KUBELET_ROOT = '/var/lib/kubelet';

export type LauncherVolumeKind = 'pvc_filesystem' | 'empty_dir' | 'container_disk_overlay' | 'host_disk';

export interface DiskLocation {
  kind: LauncherVolumeKind;
  /** The image inside the virt-launcher pod (libvirt's <source file=...>). */
  in_pod: string;
  /** The same file on the node, under the kubelet root (or as given, for hostDisk). */
  on_node: string;
  note: string;
}

/** The disk locations of virt-launcher (KubeVirt ≥ 0.5x), VOLUME = the VMI's volume name. */
export const KUBEVIRT_DISK_LOCATIONS: readonly DiskLocation[] = [
  {
    kind: 'pvc_filesystem',
    in_pod: '/var/run/kubevirt-private/vmi-disks/VOLUME/disk.img',
    on_node: `${KUBELET_ROOT}/pods/POD_UID/volumes/kubernetes.io~csi/PV_NAME/mount/disk.img`,
    note: 'PVC or DataVolume in Filesystem mode: the PV\'s filesystem (often XFS), mounted by the kubelet (local volumes: kubernetes.io~local-volume/PV_NAME)',
  },
  {
    kind: 'empty_dir',
    in_pod: '/var/run/libvirt/empty-disks/VOLUME.qcow2',
    on_node: `${KUBELET_ROOT}/pods/POD_UID/volumes/kubernetes.io~empty-dir/libvirt-runtime/empty-disks/VOLUME.qcow2`,
    note: 'emptyDisk volumes: in the launcher\'s libvirt-runtime emptyDir, on the kubelet root\'s filesystem',
  },
  {
    kind: 'container_disk_overlay',
    in_pod: '/var/run/kubevirt-ephemeral-disks/disk-data/VOLUME/disk.qcow2',
    on_node: `${KUBELET_ROOT}/pods/POD_UID/volumes/kubernetes.io~empty-dir/ephemeral-disks/disk-data/VOLUME/disk.qcow2`,
    note: 'the writable qcow2 overlay of a containerDisk (the base image is read-only): an emptyDir on the kubelet root\'s filesystem',
  },
  {
    kind: 'host_disk',
    in_pod: 'HOSTDISK_PATH',
    on_node: 'HOSTDISK_PATH',
    note: 'hostDisk volumes: the path given in the VMI, on the node\'s filesystem; add its directory to allowed_roots',
  },
];

/** The roots the DaemonSet's policy allows: every node path above lives under one of them. */
export const KUBEVIRT_ALLOWED_ROOTS: readonly string[] = [`${KUBELET_ROOT}/pods`, '/var/lib/kubevirt'];

export interface LauncherVolume {
  kind: Exclude<LauncherVolumeKind, 'host_disk'>;
  pod_uid: string;
  volume: string;
  /** For pvc_filesystem: the PV name and its plugin directory (default kubernetes.io~csi). */
  pv_name?: string;
  plugin_dir?: string;
}

const SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/** The node path of a virt-launcher disk; throws on names that are not Kubernetes object names. */
export function nodePathOf(v: LauncherVolume, kubeletRoot = KUBELET_ROOT): string {
  for (const [what, value] of [['pod uid', v.pod_uid], ['volume', v.volume], ['pv name', v.pv_name ?? 'x']] as const) {
    if (!SAFE.test(value)) throw new Error(`not a Kubernetes name for ${what}: ${JSON.stringify(value)}`);
  }
  const pod = path.join(kubeletRoot, 'pods', v.pod_uid, 'volumes');
  switch (v.kind) {
    case 'pvc_filesystem':
      if (v.pv_name === undefined) throw new Error('pvc_filesystem needs pv_name');
      return path.join(pod, v.plugin_dir ?? 'kubernetes.io~csi', v.pv_name, 'mount', 'disk.img');
    case 'empty_dir':
      return path.join(pod, 'kubernetes.io~empty-dir', 'libvirt-runtime', 'empty-disks', `${v.volume}.qcow2`);
    case 'container_disk_overlay':
      return path.join(pod, 'kubernetes.io~empty-dir', 'ephemeral-disks', 'disk-data', v.volume, 'disk.qcow2');
  }
}
