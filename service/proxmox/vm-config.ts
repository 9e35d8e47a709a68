// Proxmox VE VM configuration (/etc/pve/qemu-server/VMID.conf) -> the disks the XFS race can hit.
// Disk lines are "scsi0: STORAGE:VOLUME,opt=val,..." or "virtio1: /abs/path.raw,...". Proxmox
// opens images with cache=none (O_DIRECT) and aio=io_uring unless told otherwise (aio=native
// where io_uring is not its default), so an unset disk is exposed; aio=threads, a buffered cache
// mode, a cdrom or a read-only disk is not.
import path from 'node:path';
import type { IoMode } from '../../probes/types.js';
import type { Unresolved } from '../hooks/check-disks.js';
import { FILE_STORAGE_TYPES, type PveStorage } from './storage-cfg.js';

const DISK_KEY = /^(ide\d+|sata\d+|scsi\d+|virtio\d+|efidisk0)$/;

export interface PveDisk {
  target: string;
  io: IoMode;
  file: string;
}

export interface PveDisks {
  exposed: PveDisk[];
  skipped: string[];
  /** Disks whose image could not be located (unknown storage, no path): cannot be answered. */
  unresolved: Unresolved[];
}

/** The current configuration's "key: value" lines (snapshot and special sections follow a "[...]" line). */
function currentSection(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('[')) break;
    const m = /^([a-z0-9_]+):\s*(.*?)\s*$/.exec(line);
    if (m !== null) out.push([m[1] as string, m[2] as string]);
  }
  return out;
}

function options(parts: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const p of parts) {
    const i = p.indexOf('=');
    if (i > 0) m.set(p.slice(0, i), p.slice(i + 1));
  }
  return m;
}

/** The image file of a volume, or why it is not a file (skip) / cannot be found (error). */
function locate(volume: string, storages: ReadonlyMap<string, PveStorage>): { file: string } | { skip: string } | { error: string } {
  if (volume.startsWith('/')) return { file: volume };
  const colon = volume.indexOf(':');
  if (colon <= 0) return { error: `volume ${JSON.stringify(volume)} names no storage` };
  const id = volume.slice(0, colon);
  const name = volume.slice(colon + 1);
  const s = storages.get(id);
  if (s === undefined) return { error: `storage ${id} is not in storage.cfg` };
  if (!FILE_STORAGE_TYPES.has(s.type)) return { skip: `storage ${id} is type ${s.type}: its volumes are not files` };
  if (s.path === null) return { error: `storage ${id} (${s.type}) has no path` };
  if (name.split('/').some((seg) => seg === '..' || seg === '')) return { error: `volume name ${JSON.stringify(name)} is not a file below ${s.path}/images` };
  return { file: path.posix.join(s.path, 'images', name) };
}

export function pveDisks(configText: string, storages: ReadonlyMap<string, PveStorage>): PveDisks {
  const res: PveDisks = { exposed: [], skipped: [], unresolved: [] };
  for (const [key, value] of currentSection(configText)) {
    if (!DISK_KEY.test(key)) continue;
    const [volume = '', ...rest] = value.split(',');
    const o = options(rest);
    const aio = o.get('aio') ?? 'io_uring';
    const cache = o.get('cache') ?? 'none';
    let why: string | null = null;
    if (volume === 'none' || volume === '' || o.get('media') === 'cdrom') why = 'cdrom or no medium';
    else if (aio !== 'native' && aio !== 'io_uring') why = `aio=${aio}`;
    else if (cache !== 'none' && cache !== 'directsync') why = `cache=${cache} (no O_DIRECT)`;
    else if (o.get('ro') === '1') why = 'read-only';
    if (why !== null) {
      res.skipped.push(`${key}: ${why}`);
      continue;
    }
    const where = locate(volume, storages);
    if ('file' in where) res.exposed.push({ target: key, io: aio as IoMode, file: where.file });
    else if ('skip' in where) res.skipped.push(`${key}: ${where.skip}`);
    else res.unresolved.push({ what: `disk ${key} (${volume})`, why: where.error });
  }
  return res;
}
