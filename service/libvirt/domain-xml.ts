// libvirt domain XML -> the disks the XFS race can hit. Parsed with fast-xml-parser (validated
// first: truncated or malformed XML is an error, never "no disks"). Only writable disks opened
// with O_DIRECT (cache=none|directsync) and an asynchronous I/O mode (io=native|io_uring) are
// exposed; io=threads and buffered cache modes are skipped with the reason why.
import { XMLParser, XMLValidator } from './xml-parser.js';
import type { IoMode } from '../../probes/types.js';

export class DomainXmlError extends Error {}

/** A disk whose image file must be judged; a volume disk names its pool until resolved. */
export type ExposedDisk =
  | { kind: 'file'; target: string; io: IoMode; file: string }
  | { kind: 'volume'; target: string; io: IoMode; pool: string; volume: string };

export interface DomainDisks {
  name: string | null;
  exposed: ExposedDisk[];
  /** "vda: cache=writeback (no O_DIRECT)": disks not asked about, and why. */
  skipped: string[];
}

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  processEntities: true,
  htmlEntities: true, // numeric character references (&#10;) in paths
  isArray: (_name, jpath) => jpath === 'domain.devices.disk',
});

function obj(v: unknown): Node | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : undefined;
}

function attr(node: Node | undefined, name: string): string | undefined {
  const v = node?.[name];
  return typeof v === 'string' ? v : undefined;
}

/** Parses a domain XML document; throws DomainXmlError when it is not one. */
export function parseDomainXml(xml: string): Node {
  if (xml.trim() === '') throw new DomainXmlError('empty domain XML');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new DomainXmlError(`${valid.err.msg} (line ${valid.err.line})`);
  const domain = obj((parser.parse(xml) as Node).domain);
  if (domain === undefined) throw new DomainXmlError('no <domain> element');
  return domain;
}

/** Why a disk is not exposed, or null when it is. */
function skipReason(disk: Node, io: string, cache: string): string | null {
  if (io !== 'native' && io !== 'io_uring') return `io=${io}`;
  // QEMU opens the image with O_DIRECT for cache=none|directsync only; otherwise (also when no
  // cache is given: writeback) even io_uring submits buffered I/O, which the race cannot hit.
  if (cache !== 'none' && cache !== 'directsync') return `cache=${cache} (no O_DIRECT)`;
  if (disk.readonly !== undefined || attr(disk, 'device') === 'cdrom') return 'read-only';
  return null;
}

/** One disk element: exposed (file or volume), or the reason it is skipped. */
function classify(disk: Node): ExposedDisk | string {
  const target = attr(obj(disk.target), 'dev') ?? '?';
  const driver = obj(disk.driver);
  const io = attr(driver, 'io') ?? 'default';
  const type = attr(disk, 'type') ?? '?';
  if (type !== 'file' && type !== 'volume') return `${target}: type=${type}`;
  const why = skipReason(disk, io, attr(driver, 'cache') ?? 'default');
  if (why !== null) return `${target}: ${why}`;
  const source = obj(disk.source);
  const mode = io as IoMode;
  if (type === 'file') {
    const file = attr(source, 'file');
    return file === undefined || file === '' ? `${target}: no source file` : { kind: 'file', target, io: mode, file };
  }
  const pool = attr(source, 'pool');
  const volume = attr(source, 'volume');
  if (pool === undefined || pool === '' || volume === undefined || volume === '') return `${target}: volume without pool or name`;
  return { kind: 'volume', target, io: mode, pool, volume };
}

/** The disks of a domain worth asking about, and the ones skipped with why. */
export function domainDisks(xml: string): DomainDisks {
  const domain = parseDomainXml(xml);
  const disks = (obj(domain.devices)?.disk as unknown[] | undefined) ?? [];
  const exposed: ExposedDisk[] = [];
  const skipped: string[] = [];
  for (const d of disks) {
    const node = obj(d);
    if (node === undefined) continue;
    const c = classify(node);
    if (typeof c === 'string') skipped.push(c);
    else exposed.push(c);
  }
  const name = domain.name;
  return { name: typeof name === 'string' ? name : null, exposed, skipped };
}
