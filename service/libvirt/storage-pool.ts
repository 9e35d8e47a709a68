// <disk type='volume'> -> the image file: the pool's XML gives its type and target path; in a
// directory-backed pool (dir, fs, netfs) a volume is the file NAME under that path. The pool XML
// is read from libvirt's own files first (the live state in /run, then the definition in /etc):
// a hook that calls back into libvirt while libvirt waits for it can deadlock, so `virsh
// pool-dumpxml` is only the last resort, time-bounded.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { XMLParser, XMLValidator } from './xml-parser.js';

/** Where libvirt keeps pool XML: active pools' state, then persistent definitions. */
export const DEFAULT_POOL_DIRS = ['/run/libvirt/storage', '/etc/libvirt/storage'] as const;
/** Pool types whose volumes are files under the target path. */
const FILE_POOLS = new Set(['dir', 'fs', 'netfs']);

export interface PoolTarget {
  name: string;
  type: string;
  path: string | null;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, processEntities: true, htmlEntities: true });

/** The type and target path of a pool from its XML; throws on XML that is not a pool. */
export function parsePoolXml(xml: string): PoolTarget {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`pool XML: ${valid.err.msg} (line ${valid.err.line})`);
  type Pool = { type?: unknown; name?: unknown; target?: { path?: unknown } };
  // libvirt's live state file (/run/libvirt/storage/NAME.xml) wraps the pool in <poolstate>.
  const doc = parser.parse(xml) as { pool?: Pool; poolstate?: { pool?: Pool } };
  const pool = doc.pool ?? doc.poolstate?.pool;
  if (pool === undefined || pool === null || typeof pool !== 'object') throw new Error('pool XML: no <pool> element');
  const p = pool.target?.path;
  return {
    name: typeof pool.name === 'string' ? pool.name : '?',
    type: typeof pool.type === 'string' ? pool.type : '?',
    path: typeof p === 'string' && p.trim() !== '' ? p.trim() : null,
  };
}

function virshPoolXml(pool: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('virsh', ['--quiet', '-c', 'qemu:///system', 'pool-dumpxml', '--', pool], { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`virsh pool-dumpxml ${pool}: ${err.killed ? `timed out after ${timeoutMs} ms` : String(stderr).trim().split('\n')[0] || err.message}`));
      else resolve(stdout);
    });
  });
}

export interface ResolveOptions {
  poolDirs?: readonly string[];
  /** Ask virsh when no pool file is found (default true). */
  virsh?: boolean;
  timeoutMs?: number;
}

/** The pool's XML: from libvirt's files, else virsh. */
export async function poolXml(pool: string, opts: ResolveOptions = {}): Promise<string> {
  if (pool.includes('/') || pool.startsWith('.')) throw new Error(`pool name ${JSON.stringify(pool)} is not a libvirt pool name`);
  for (const dir of opts.poolDirs ?? DEFAULT_POOL_DIRS) {
    try {
      return await readFile(path.join(dir, `${pool}.xml`), 'utf8');
    } catch {
      // next place
    }
  }
  if (opts.virsh === false) throw new Error(`pool ${pool}: no pool XML in ${(opts.poolDirs ?? DEFAULT_POOL_DIRS).join(', ')}`);
  return virshPoolXml(pool, opts.timeoutMs ?? 3000);
}

/** The image file of volume VOLUME in pool POOL, or why it is not a file to judge. */
export async function resolveVolume(pool: string, volume: string, opts: ResolveOptions = {}): Promise<{ file: string } | { skip: string } | { error: string }> {
  let target: PoolTarget;
  try {
    target = parsePoolXml(await poolXml(pool, opts));
  } catch (err) {
    return { error: (err as Error).message };
  }
  if (!FILE_POOLS.has(target.type)) return { skip: `pool ${pool} is type=${target.type}: its volumes are not files` };
  if (target.path === null) return { error: `pool ${pool} (type=${target.type}) has no target path` };
  if (volume.includes('/') || volume === '.' || volume === '..') return { error: `volume name ${JSON.stringify(volume)} is not a file name in pool ${pool}` };
  return { file: path.posix.join(target.path, volume) };
}
