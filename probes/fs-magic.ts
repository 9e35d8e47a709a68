// statfs f_type → filesystem name and class. Magic numbers from <linux/magic.h> and the
// filesystems' own sources (zfs, gfs2, lustre, gpfs, beegfs are out of tree or not in magic.h).
import type { FsClass } from './types.js';

export interface MagicEntry {
  name: string;
  class: FsClass;
}

const entries: [number, string, FsClass][] = [
  [0x58465342, 'xfs', 'local'],
  [0xef53, 'ext2/ext3/ext4', 'local'],
  [0x9123683e, 'btrfs', 'local'],
  [0x2fc12fc1, 'zfs', 'local'],
  [0xf2f52010, 'f2fs', 'local'],
  [0x3434, 'nilfs2', 'local'],
  [0x52654973, 'reiserfs', 'local'],
  [0x4d44, 'vfat', 'local'],
  [0x2011bab0, 'exfat', 'local'],
  [0x5346544e, 'ntfs', 'local'],
  [0x7366746e, 'ntfs3', 'local'],
  [0x15013346, 'udf', 'local'],
  [0x9660, 'iso9660', 'local'],
  [0x73717368, 'squashfs', 'local'],
  [0xe0f5e1e2, 'erofs', 'local'],
  [0x28cd3d45, 'cramfs', 'local'],
  [0x5a4f4653, 'zonefs', 'local'],
  [0x01161970, 'gfs2', 'local'],
  [0x7461636f, 'ocfs2', 'local'],
  [0xf15f, 'ecryptfs', 'local'],
  [0x01021994, 'tmpfs', 'local'],
  [0x858458f6, 'ramfs', 'local'],
  [0x958458f6, 'hugetlbfs', 'local'],
  [0x794c7630, 'overlay', 'overlay'],
  [0x6969, 'nfs', 'network'],
  [0xff534d42, 'cifs', 'network'],
  [0xfe534d42, 'smb2', 'network'],
  [0x517b, 'smb', 'network'],
  [0x00c36400, 'ceph', 'network'],
  [0x01021997, '9p', 'network'],
  [0x5346414f, 'afs', 'network'],
  [0x6b414653, 'afs', 'network'],
  [0x73757245, 'coda', 'network'],
  [0x0bd00bd0, 'lustre', 'network'],
  [0x47504653, 'gpfs', 'network'],
  [0x19830326, 'beegfs', 'network'],
  [0x786f4256, 'vboxsf', 'network'],
  [0x65735546, 'fuse', 'fuse'],
  [0x9fa0, 'proc', 'pseudo'],
  [0x62656572, 'sysfs', 'pseudo'],
  [0x1cd1, 'devpts', 'pseudo'],
  [0x27e0eb, 'cgroup', 'pseudo'],
  [0x63677270, 'cgroup2', 'pseudo'],
  [0x64626720, 'debugfs', 'pseudo'],
  [0x74726163, 'tracefs', 'pseudo'],
  [0x73636673, 'securityfs', 'pseudo'],
  [0xcafe4a11, 'bpf', 'pseudo'],
  [0x6165676c, 'pstore', 'pseudo'],
  [0xde5e81e4, 'efivarfs', 'pseudo'],
  [0x42494e4d, 'binfmt_misc', 'pseudo'],
  [0x0187, 'autofs', 'pseudo'],
  [0x9fa2, 'usbdevfs', 'pseudo'],
  [0x6e736673, 'nsfs', 'pseudo'],
  [0xf97cff8c, 'selinuxfs', 'pseudo'],
  [0x43415d53, 'smackfs', 'pseudo'],
  [0x6c6f6f70, 'binderfs', 'pseudo'],
];

export const FS_MAGIC: ReadonlyMap<number, MagicEntry> = new Map(
  entries.map(([magic, name, cls]) => [magic, { name, class: cls }]),
);

export const XFS_MAGIC = 0x58465342;

export function magicHex(magic: number): string {
  return `0x${(magic >>> 0).toString(16).padStart(8, '0')}`;
}

/** The table entry for a magic, or {name:'unknown', class:'unknown'}. */
export function lookupMagic(magic: number): MagicEntry {
  return FS_MAGIC.get(magic >>> 0) ?? { name: 'unknown', class: 'unknown' };
}
