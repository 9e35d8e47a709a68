// The contract between the native self-test (native/src) and TypeScript.
// Field names are snake_case because these objects are printed as JSON as they are.

export type Engine = 'aio' | 'io_uring';
/** Which size-setting fallocate to race: FALLOC_FL_ZERO_RANGE (QEMU qcow2) or mode 0 (fstests generic/586). */
export type FallocMode = 'zero-range' | 'alloc';
export type RaceOutcome = 'reproduced' | 'not_reproduced' | 'unsupported';
export type RaceWindow = 'beyond_eof' | 'eof_prealloc' | 'below_range';

export interface RaceOptions {
  /** Directory on the filesystem under test; the scratch file is created in it. Named in messages. */
  directory: string;
  /**
   * That directory already opened (openDirectory()): the run creates its scratch file relative to
   * this fd and never resolves `directory`. Without it the run opens `directory` once itself,
   * following no symlink. The fd is not closed by the run.
   */
  directory_fd?: number;
  engine: Engine;
  mode: FallocMode;
  /** Stop after this many iterations (1..1_000_000). */
  max_iterations: number;
  /** Stop when this much wall time is spent (ms). */
  budget_ms: number;
  /** Never write more than this many bytes in this run. */
  max_bytes: number;
  /** Int32Array over a SharedArrayBuffer; any non-zero value in element 0 asks the run to stop. */
  cancel?: Int32Array;
  /**
   * Where the write goes (optional; default 'auto'): 'beyond_eof' = generic/586 shape (write at B into
   * an empty file, fallocate [0,B)); 'eof_prealloc' = write at EOF (0) into blocks preallocated with
   * FALLOC_FL_KEEP_SIZE, fallocate [0,B), so io_uring's inline IOCB_NOWAIT issue is accepted instead of
   * punted to an io-wq worker; 'auto' = aio → beyond_eof, io_uring → eof_prealloc;
   * 'below_range' = an extending write [0,io) in flight BELOW a beyond-EOF fallocate [io+B, io+2B):
   * lost there, QEMU's own serialising workaround (>= 4.1.1) does not protect (it only orders
   * requests at or above the zeroed offset).
   */
  window?: 'auto' | RaceWindow;
  /** Stop at the first reproduction (default true); false runs until a limit, to measure the share. */
  stop_on_first?: boolean;
}

/** Why an engine or mode could not be tested: an expected kernel refusal, reported as data. */
export interface RaceRefusal {
  /** The step that was refused: 'open', 'unlink', 'open_o_direct', 'io_setup', 'io_uring_setup', 'fallocate', 'write', 'read', 'statvfs', 'race_window', ... */
  stage: string;
  /** errno name, e.g. 'EINVAL', 'EOPNOTSUPP', 'ENOSYS', 'EPERM', 'EROFS', 'ENOSPC', 'EACCES'. Empty when not an errno. */
  errno: string;
  message: string;
}

export interface RaceReproduction {
  iteration: number;
  io_size: number;
  write_offset: number;
  falloc_offset: number;
  falloc_len: number;
  expected_size: number;
  actual_size: number;
  /** The bytes read back from the written range differ from what was written. */
  data_mismatch: boolean;
}

export interface RaceResult {
  engine: Engine;
  mode: FallocMode;
  outcome: RaceOutcome;
  iterations: number;
  reproductions: number;
  /** Iterations in which the write was verifiably still in flight when fallocate was issued. */
  in_flight_iterations: number;
  first_reproduction: RaceReproduction | null;
  /** The distinct write sizes used, in bytes, in the order first used. */
  io_sizes: number[];
  duration_ms: number;
  bytes_written: number;
  block_size: number;
  /** How the scratch file was made: O_TMPFILE, or a hidden unique name unlinked at once. */
  scratch: 'o_tmpfile' | 'unlinked_name' | 'none';
  cancelled: boolean;
  reason: RaceRefusal | null;
  /** The write placement used. */
  window?: RaceWindow;
  /** Iterations whose completion was already posted when fallocate was issued (nothing tested). */
  completed_before_fallocate?: number;
  /** Milliseconds from the start of the run to the end of the first reproducing iteration. */
  first_reproduction_ms?: number | null;
}

/** A directory opened once with no symlink followed on its path (openat2, or an O_NOFOLLOW walk). */
export interface OpenedDirectory {
  fd: number;
  resolver: 'openat2' | 'nofollow_walk';
  /** st_dev as "major:minor", st_ino as a decimal string, statfs f_type: what the fd really is. */
  device: string;
  inode: string;
  magic: number;
}
export type OpenDirectoryResult = OpenedDirectory | { error: RaceRefusal };
