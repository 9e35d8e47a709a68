// /proc/self/mountinfo: which mount holds a path, with its device, type, source and options.
import { readFile } from 'node:fs/promises';
import type { MountFacts } from './types.js';

/** Undo the octal escapes (\040 space, \011 tab, \012 newline, \134 backslash) the kernel writes. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountinfo(text: string): MountFacts[] {
  const mounts: MountFacts[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const [id, , device, , mountPoint, options] = left;
    const [fsType, source, superOptions] = right;
    if (id === undefined || device === undefined || mountPoint === undefined || fsType === undefined) continue;
    mounts.push({
      mount_id: Number(id),
      mount_point: unescape(mountPoint),
      device,
      fs_type: fsType,
      source: unescape(source ?? ''),
      options: (options ?? '').split(',').filter(Boolean),
      super_options: (superOptions ?? '').split(',').filter(Boolean),
    });
  }
  return mounts;
}

function contains(mountPoint: string, target: string): boolean {
  if (mountPoint === '/') return true;
  return target === mountPoint || target.startsWith(`${mountPoint}/`);
}

/**
 * The mount that serves `realPath` (already symlink-free): the longest mount point containing it,
 * the last one listed where mounts are stacked, preferring one whose device matches `device`.
 */
export function findMount(mounts: readonly MountFacts[], realPath: string, device: string | null): MountFacts | null {
  let best: MountFacts | null = null;
  for (const m of mounts) {
    if (!contains(m.mount_point, realPath)) continue;
    if (best === null || m.mount_point.length >= best.mount_point.length) best = m;
  }
  if (best !== null && device !== null && best.device !== device) {
    // Bind mounts and namespaces can make the longest prefix the wrong one: trust the device.
    const sameDevice = mounts.filter((m) => m.device === device && contains(m.mount_point, realPath));
    const last = sameDevice.at(-1);
    if (last !== undefined) return last;
  }
  return best;
}

export async function readMountinfo(file = '/proc/self/mountinfo'): Promise<MountFacts[]> {
  try {
    return parseMountinfo(await readFile(file, 'utf8'));
  } catch {
    return [];
  }
}
