// Proxmox VE's /etc/pve/storage.cfg: "TYPE: ID" section headers, then indented "key value"
// lines. Only what turns a volume id into a file is kept: the storages whose images are files
// under PATH/images/ (dir, nfs, cifs, btrfs).
export interface PveStorage {
  id: string;
  type: string;
  path: string | null;
}

/** Storage types whose disk images are files below PATH/images/. */
export const FILE_STORAGE_TYPES: ReadonlySet<string> = new Set(['dir', 'nfs', 'cifs', 'btrfs']);

export function parseStorageCfg(text: string): Map<string, PveStorage> {
  const out = new Map<string, PveStorage>();
  let current: PveStorage | null = null;
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const head = /^([a-z0-9]+):\s*(\S+)\s*$/.exec(line);
    if (head !== null) {
      current = { type: head[1] as string, id: head[2] as string, path: null };
      out.set(current.id, current);
      continue;
    }
    const kv = /^\s+(\S+)(?:\s+(.*?))?\s*$/.exec(line);
    if (kv !== null && current !== null && kv[1] === 'path' && kv[2] !== undefined) current.path = kv[2];
  }
  return out;
}
