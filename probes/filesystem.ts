// The filesystem probe: which filesystem holds a path, by statfs magic, with its mount.
import { lstat, readdir, readlink, realpath, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { lookupMagic, magicHex } from './fs-magic.js';
import { findMount, readMountinfo } from './mountinfo.js';
import { PathInputError, isUnderPseudoRoot, pathErrorFromErrno } from './path-input.js';
import type { FilesystemFacts, MountFacts } from './types.js';

/** statfs can hang on a dead network mount: give up after this long. */
const STATFS_TIMEOUT_MS = 5000;

export function deviceString(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PathInputError('path_unresponsive', `${what} did not answer within ${ms} ms (a hung network or FUSE mount?)`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Linux follows at most this many symlinks in one lookup (MAXSYMLINKS): more is a loop. */
const MAX_SYMLINKS = 40;

export interface ResolvedPath {
  real: string;
  /** The path (or the target of a dangling link in it) does not exist: `real` is its nearest existing ancestor. */
  missing: boolean;
  /** Dangling symlinks followed on the way, as "link -> target". */
  dangling_links: string[];
}

/** The target of `link` when it is a symlink (absolute, against its directory's real path), else null. */
async function danglingTarget(link: string): Promise<string | null> {
  let isLink: boolean;
  try {
    isLink = (await lstat(link)).isSymbolicLink();
  } catch {
    return null;
  }
  if (!isLink) return null;
  try {
    return path.resolve(await realpath(path.dirname(link)), await readlink(link));
  } catch (err) {
    throw pathErrorFromErrno(err, link) ?? err;
  }
}

/**
 * Resolves symlinks and walks up to the nearest existing ancestor: images are often checked
 * before they are created. A dangling symlink on the way is followed to its target (what
 * `qemu-img create` would create), never judged where the link itself lies.
 */
export async function resolveExisting(absolute: string): Promise<ResolvedPath> {
  let current = absolute;
  /** Names walked off `current`, to append again when a link in it is followed. */
  let rest: string[] = [];
  const dangling: string[] = [];
  for (;;) {
    try {
      return { real: await realpath(current), missing: rest.length > 0, dangling_links: dangling };
    } catch (err) {
      const code = errnoOf(err);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw pathErrorFromErrno(err, current) ?? err;
      const target = await danglingTarget(current);
      if (target !== null) {
        if (dangling.length >= MAX_SYMLINKS) throw new PathInputError('path_invalid', `cannot examine ${absolute}: too many levels of symbolic links (ELOOP)`);
        dangling.push(`${current} -> ${target}`);
        current = path.join(target, ...rest);
        rest = [];
        continue;
      }
      const parent = path.dirname(current);
      if (parent === current) throw err;
      rest = [path.basename(current), ...rest];
      current = parent;
    }
  }
}

/**
 * true when `absolute` lies below `ancestor` (a real path) and the first name below `ancestor` does
 * not exist, not even as a dangling symlink: then `absolute` resolves to `ancestor` by walking up
 * its own path, and no symlink led there from elsewhere.
 */
export async function resolvesByWalkingUp(absolute: string, ancestor: string): Promise<boolean> {
  const rel = path.relative(ancestor, absolute);
  if (rel === '' || rel === '..' || rel.startsWith('../') || path.isAbsolute(rel)) return false;
  try {
    await lstat(path.join(ancestor, rel.split('/', 1)[0]!));
    return false;
  } catch (err) {
    return errnoOf(err) === 'ENOENT';
  }
}

const uuidCache = new Map<string, string | null>();

/** The filesystem UUID as udev names it (/dev/disk/by-uuid), cached per device. */
async function fsUuidFor(device: string): Promise<string | null> {
  const hit = uuidCache.get(device);
  if (hit !== undefined) return hit;
  let found: string | null = null;
  try {
    const dir = '/dev/disk/by-uuid';
    for (const name of await readdir(dir)) {
      try {
        const st = await stat(path.join(dir, name), { bigint: true });
        if (deviceString(st.rdev) === device) {
          found = name;
          break;
        }
      } catch {
        // a dangling link: skip it
      }
    }
  } catch {
    // no udev here
  }
  uuidCache.set(device, found);
  return found;
}

/** statfs with a time limit, its magic and table entry. */
export async function statfsFacts(dir: string) {
  const sfs = await withTimeout(statfs(dir), STATFS_TIMEOUT_MS, `statfs(${dir})`);
  const magic = Number(sfs.type) >>> 0;
  return { magic, entry: lookupMagic(magic), sfs };
}

/** Picks a more exact name than the magic table can (ext4 vs ext3, fuse.sshfs, nfs4). */
function refineName(tableName: string, mount: MountFacts | null): string {
  if (mount === null) return tableName;
  if (tableName === 'ext2/ext3/ext4' && /^ext[234]$/.test(mount.fs_type)) return mount.fs_type;
  if (tableName === 'fuse' && mount.fs_type.startsWith('fuse')) return mount.fs_type;
  if (tableName === 'nfs' && mount.fs_type.startsWith('nfs')) return mount.fs_type;
  return tableName;
}

async function overlayUpper(mount: MountFacts | null): Promise<FilesystemFacts['overlay_upper']> {
  const upper = mount?.super_options.find((o) => o.startsWith('upperdir='))?.slice('upperdir='.length);
  if (upper === undefined) return null;
  try {
    const { magic, entry } = await statfsFacts(upper);
    return { directory: upper, magic_hex: magicHex(magic), fs_type: entry.name, fs_class: entry.class };
  } catch {
    return null;
  }
}

let mountTable: { mounts: MountFacts[]; read_at: number } | null = null;

/**
 * The mount serving `dir`, from a mount table at most `maxAgeMs` old: reading /proc/self/mountinfo
 * costs more than every other step of a probe together, which matters to a busy service. A cached
 * entry is used only when its device is the directory's own, so a mount made since the last read
 * is never missed; a remount (e.g. read-only) shows after at most `maxAgeMs`.
 */
async function mountFor(dir: string, device: string, maxAgeMs: number): Promise<MountFacts | null> {
  const now = Date.now();
  if (mountTable !== null && now - mountTable.read_at < maxAgeMs) {
    const cached = findMount(mountTable.mounts, dir, device);
    if (cached !== null && cached.device === device) return cached;
  }
  mountTable = { mounts: await readMountinfo(), read_at: now };
  return findMount(mountTable.mounts, dir, device);
}

export interface FilesystemProbeOptions {
  /** Reuse a mount table read this recently (default 0: always read it). */
  mountTableMaxAgeMs?: number;
}

/** Probes the filesystem that holds (or would hold) `absolute`. */
export async function probeFilesystem(absolute: string, opts: FilesystemProbeOptions = {}): Promise<FilesystemFacts> {
  const notes: string[] = [];
  const { real, missing, dangling_links: dangling } = await resolveExisting(absolute);
  if (isUnderPseudoRoot(real)) {
    throw new PathInputError('path_pseudo', `${absolute} resolves to ${real}, a pseudo filesystem (/proc, /sys, /dev): not a place for VM images`);
  }
  let kind: FilesystemFacts['path_kind'];
  let isDirectory: boolean;
  try {
    const st = await lstat(real);
    isDirectory = st.isDirectory();
    kind = missing ? 'missing' : isDirectory ? 'directory' : st.isFile() ? 'file' : 'other';
  } catch (err) {
    throw pathErrorFromErrno(err, real) ?? err;
  }
  const judged = isDirectory ? real : path.dirname(real);
  for (const link of dangling) notes.push(`dangling symlink ${link}: judged where the target would be created`);
  if (missing) notes.push(`${absolute} does not exist yet: judged its nearest existing ancestor ${real}`);
  if (kind === 'file' || kind === 'other') {
    notes.push(`${real} is ${kind === 'file' ? 'a regular file' : 'not a directory'}: judged its directory ${judged}`);
  } else if (real !== absolute && !missing) {
    notes.push(`${absolute} resolves to ${real}`);
  }

  let dirStat;
  let fsInfo;
  try {
    dirStat = await stat(judged, { bigint: true });
    fsInfo = await statfsFacts(judged);
  } catch (err) {
    throw pathErrorFromErrno(err, judged) ?? err;
  }
  const device = deviceString(dirStat.dev);
  const mount = await mountFor(judged, device, opts.mountTableMaxAgeMs ?? 0);
  const { magic, entry, sfs } = fsInfo;
  const readOnly = mount !== null && (mount.options.includes('ro') || mount.super_options.includes('ro'));
  return {
    requested_path: absolute,
    judged_directory: judged,
    path_kind: kind,
    magic,
    magic_hex: magicHex(magic),
    fs_type: refineName(entry.name, mount),
    fs_class: entry.class,
    device,
    inode: dirStat.ino.toString(),
    fs_uuid: await fsUuidFor(device),
    block_size: Number(sfs.bsize),
    free_bytes: Number(sfs.bavail) * Number(sfs.bsize),
    read_only: readOnly,
    mount,
    overlay_upper: entry.class === 'overlay' ? await overlayUpper(mount) : null,
    notes,
  };
}
