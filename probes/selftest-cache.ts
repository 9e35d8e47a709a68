// Self-test results cached per boot, kernel release and filesystem, one file per filesystem in the
// state directory, written atomically. A corrupt or foreign file is ignored with a warning.
import { randomBytes } from './random-bytes.js';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { readRegularFile } from './regular-file.js';
import { isPlainCacheFile } from './selftest-record-check.js';
import type { CacheFile } from './selftest-schema.js';
import { reportIsStorable } from './selftest-runs.js';
import { ensureDirectory } from './state-dir.js';
import type { SelfTestEvidence, SelfTestReport } from './types.js';

export const DEFAULT_STATE_DIR = '/var/lib/xfsguard';

/** --state-dir wins, then XFSGUARD_STATE_DIR, then the default. */
export function resolveStateDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag ?? env.XFSGUARD_STATE_DIR ?? DEFAULT_STATE_DIR);
}

export interface CacheKey {
  boot_id: string | null;
  kernel_release: string;
  device: string;
  fs_uuid: string | null;
}

const FILE_PREFIX = 'selftest-';
/** A record is a few KiB; a FIFO or a huge file in its place is ignored, never waited for. */
const MAX_RECORD_BYTES = 1024 * 1024;

function fileFor(dir: string, device: string): string {
  return path.join(dir, `${FILE_PREFIX}${device.replace(/[^0-9A-Za-z]/g, '-')}.json`);
}

/** Does this report answer for that boot, kernel and filesystem? (No boot id: never reusable.) */
export function reportMatches(report: SelfTestReport, key: CacheKey): boolean {
  return (
    key.boot_id !== null &&
    report.boot_id === key.boot_id &&
    report.kernel_release === key.kernel_release &&
    report.device === key.device &&
    report.fs_uuid === key.fs_uuid
  );
}

/** Writes a file atomically: a temp file beside it, fsync, rename, fsync of the directory. */
export async function writeFileAtomic(file: string, content: string, mode = 0o644): Promise<void> {
  const dir = path.dirname(file);
  await ensureDirectory(dir, 0o755);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

export class SelfTestCache {
  constructor(
    readonly dir: string,
    private readonly warn: (message: string) => void = (m) => process.stderr.write(`xfsguard: warning: ${m}\n`),
  ) {}

  private async readFileChecked(file: string): Promise<CacheFile | null> {
    let text: string;
    try {
      text = await readRegularFile(file, MAX_RECORD_BYTES);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') this.warn(`cannot read ${file}: ${code ?? String(err)}; ignoring it`);
      return null;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.warn(`${file} is not valid JSON; ignoring it`);
      return null;
    }
    // a well-formed record is read without loading zod (issue 11: `check` start-up); zod explains the rest
    if (isPlainCacheFile(json)) return json;
    const { cacheFileSchema } = await import('./selftest-schema.js');
    const parsed = cacheFileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      this.warn(`${file} is not an xfsguard self-test record (${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}); ignoring it`);
      return null;
    }
    return parsed.data;
  }

  /** The cached self-test for this key, or null. */
  async read(key: CacheKey, now = Date.now()): Promise<SelfTestEvidence | null> {
    const record = await this.readFileChecked(fileFor(this.dir, key.device));
    if (record === null || !reportMatches(record.report, key)) return null;
    return { report: record.report, cached: true, age_ms: Math.max(0, now - Date.parse(record.written_at)) };
  }

  /** Stores the report; a report that says nothing about the filesystem (reportIsStorable) is not stored: null. */
  async write(report: SelfTestReport, now = new Date()): Promise<string | null> {
    if (!reportIsStorable(report)) return null;
    const file = fileFor(this.dir, report.device);
    const record: CacheFile = { format: 'xfsguard-selftest-cache', format_version: 1, written_at: now.toISOString(), report };
    await writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`);
    return file;
  }

  /** Every valid record in the directory (any boot), with when it was written. */
  async list(): Promise<CacheFile[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: CacheFile[] = [];
    for (const name of names.sort()) {
      if (!name.startsWith(FILE_PREFIX) || !name.endsWith('.json')) continue;
      const rec = await this.readFileChecked(path.join(this.dir, name));
      if (rec !== null) out.push(rec);
    }
    return out;
  }
}
