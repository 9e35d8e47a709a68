// Facts gathered by the probes. The policy engine (policies/decide.ts) turns them into a decision.
import type { Engine, FallocMode, RaceOutcome, RaceResult } from '../native/types.js';

export type FsClass = 'local' | 'network' | 'fuse' | 'overlay' | 'pseudo' | 'unknown';

export interface MountFacts {
  mount_id: number;
  mount_point: string;
  /** major:minor of the mounted device, as /proc/self/mountinfo shows it. */
  device: string;
  /** fs type as the mount table names it (e.g. "xfs", "fuse.sshfs", "nfs4"). */
  fs_type: string;
  source: string;
  options: string[];
  super_options: string[];
}

export interface FilesystemFacts {
  /** The path as asked. */
  requested_path: string;
  /** The directory that was judged: the path itself, its directory when it is a file, or its nearest existing ancestor. */
  judged_directory: string;
  path_kind: 'directory' | 'file' | 'missing' | 'other';
  /** statfs f_type */
  magic: number;
  magic_hex: string;
  /** Filesystem name from the magic table ("xfs", "ext4", ...) or "unknown". */
  fs_type: string;
  fs_class: FsClass;
  /** st_dev of the judged directory, as "major:minor". */
  device: string;
  /** st_ino of the judged directory (decimal): the self-test checks the directory it opens is this one. */
  inode?: string;
  /** Filesystem UUID where the system names it (/dev/disk/by-uuid), else null. */
  fs_uuid: string | null;
  block_size: number;
  free_bytes: number;
  read_only: boolean;
  mount: MountFacts | null;
  /** For overlay: the filesystem of the upper layer, when it could be found. */
  overlay_upper: { directory: string; magic_hex: string; fs_type: string; fs_class: FsClass } | null;
  notes: string[];
}

export interface DistroFacts {
  id: string | null;
  version_id: string | null;
  pretty_name: string | null;
  id_like: string[];
}

export interface KernelFacts {
  /** uname -r */
  release: string;
  /** uname -v: on Debian it carries the package version ("... Debian 6.1.76-1 ..."). */
  version: string;
  /** /proc/version_signature (Ubuntu), else null. */
  version_signature: string | null;
  /** Upstream x.y.z parsed from the release, or null when it cannot be read. */
  upstream: string | null;
  distro: DistroFacts | null;
  /** /proc/sys/kernel/random/boot_id, or null. */
  boot_id: string | null;
}

export interface SelfTestReport {
  format_version: 1;
  /** reproduced if any run reproduced; not_reproduced if some run completed and none reproduced; unsupported if none could run. */
  outcome: RaceOutcome;
  directory: string;
  device: string;
  fs_uuid: string | null;
  fs_type: string;
  kernel_release: string;
  boot_id: string | null;
  started_at: string;
  duration_ms: number;
  bytes_written: number;
  iterations: number;
  reproductions: number;
  engines: Engine[];
  modes: FallocMode[];
  runs: RaceResult[];
  reason: string | null;
  /**
   * The below-range case (contract C1): an extending write in flight BELOW a beyond-EOF ZERO_RANGE.
   * 'reproduced': that write's data or size was lost, so QEMU's own serialising workaround
   * (>= 4.1.1, which orders only requests at or above the zeroed offset) does not suffice on this
   * kernel. null/absent: the case did not run (no aio engine or no zero-range mode asked for).
   */
  below_range_outcome?: RaceOutcome | null;
  /** Set when the device did not respond by the deadline: the test process was abandoned (outcome 'unsupported'). */
  timeout?: { deadline_ms: number; message: string } | null;
}

/** A self-test result with where it came from. */
export interface SelfTestEvidence {
  report: SelfTestReport;
  /** true when read from the state directory rather than run now. */
  cached: boolean;
  age_ms: number;
}

export type IoMode = 'native' | 'io_uring' | 'threads';
