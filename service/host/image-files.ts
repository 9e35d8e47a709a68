// How many VM image files live under a root: lets an alert tell "affected host that holds VM images"
// from an affected verdict on an empty directory. A bounded walk (entries and depth), never a scan
// of a whole filesystem; symlinks are not followed.
import { opendir } from 'node:fs/promises';
import path from 'node:path';

/** Disk image names of QEMU, libvirt, Proxmox (vm-N-disk-M.qcow2/.raw) and KubeVirt (disk.img). */
export const IMAGE_FILE = /\.(qcow2?|img|raw|vmdk|vdi|vhdx?|qed|iso)$/i;

export interface ImageCount {
  files: number;
  /** The walk stopped at a limit: files is a lower bound. */
  truncated: boolean;
}

/** Counts image files under root, visiting at most maxEntries entries, maxDepth directories deep. */
export async function countImageFiles(root: string, opts: { maxEntries?: number; maxDepth?: number } = {}): Promise<ImageCount> {
  const maxEntries = opts.maxEntries ?? 20_000;
  const maxDepth = opts.maxDepth ?? 8;
  let seen = 0;
  let files = 0;
  let truncated = false;
  const queue: { dir: string; depth: number }[] = [{ dir: root, depth: 0 }];
  while (queue.length > 0) {
    const { dir, depth } = queue.shift()!;
    let handle;
    try {
      handle = await opendir(dir);
    } catch {
      continue; // unreadable or gone meanwhile: counts nothing
    }
    for await (const entry of handle) {
      if (++seen > maxEntries) {
        truncated = true;
        return { files, truncated }; // leaving the for-await closes the handle
      }
      if (entry.isFile() && IMAGE_FILE.test(entry.name)) files++;
      else if (entry.isDirectory()) {
        if (depth + 1 <= maxDepth) queue.push({ dir: path.join(dir, entry.name), depth: depth + 1 });
        else truncated = true;
      }
    }
  }
  return { files, truncated };
}
