// For a busy service: the facts of a path are reused for a short time, each reuse checked by one
// statfs of the judged directory (same filesystem type still there; free space refreshed). A full
// probe costs five thread-pool round trips and an error object for every missing path component.
// On a local filesystem that reuse is a synchronous statfs (a few µs, no thread-pool round trip,
// no timer): it cannot hang the way a network or FUSE mount can, which keep the async, time-bounded one.
import { statfsSync } from 'node:fs';
import { probeFilesystem, statfsFacts } from './filesystem.js';
import type { FilesystemFacts } from './types.js';

export interface FilesystemCacheOptions {
  /** How long a path's facts are reused; also the age allowed for the mount table. */
  ttlMs?: number;
  /** The least recently probed paths are dropped beyond this many. */
  maxEntries?: number;
  now?: () => number;
}

export class FilesystemFactsCache {
  private readonly entries = new Map<string, { facts: FilesystemFacts; at: number }>();
  private readonly probing = new Map<string, Promise<FilesystemFacts>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(opts: FilesystemCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 1000;
    this.maxEntries = opts.maxEntries ?? 1024;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The reused facts of a path on a local filesystem, checked by a synchronous statfs, or null
   * (not cached, too old, not local, or the check failed): then call probe().
   */
  fresh(absolute: string): FilesystemFacts | null {
    const hit = this.entries.get(absolute);
    if (hit === undefined || hit.facts.fs_class !== 'local' || this.now() - hit.at >= this.ttlMs) return null;
    try {
      const sfs = statfsSync(hit.facts.judged_directory);
      if (Number(sfs.type) >>> 0 !== hit.facts.magic) return null;
      return { ...hit.facts, free_bytes: Number(sfs.bavail) * Number(sfs.bsize) };
    } catch {
      return null;
    }
  }

  async probe(absolute: string): Promise<FilesystemFacts> {
    const now = this.now();
    const hit = this.entries.get(absolute);
    if (hit !== undefined && now - hit.at < this.ttlMs) {
      try {
        const { magic, sfs } = await statfsFacts(hit.facts.judged_directory);
        if (magic === hit.facts.magic) return { ...hit.facts, free_bytes: Number(sfs.bavail) * Number(sfs.bsize) };
      } catch {
        // gone or unreachable: probe again, which reports it properly
      }
    }
    // A busy path's facts expire under many requests at once: they share one full probe (each
    // would otherwise run its own, and each answer would rest on facts of its own).
    let full = this.probing.get(absolute);
    if (full === undefined) {
      full = this.fullProbe(absolute, now).finally(() => this.probing.delete(absolute));
      this.probing.set(absolute, full);
    }
    return full;
  }

  private async fullProbe(absolute: string, now: number): Promise<FilesystemFacts> {
    const facts = await probeFilesystem(absolute, { mountTableMaxAgeMs: this.ttlMs });
    this.entries.delete(absolute);
    this.entries.set(absolute, { facts, at: now });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    return facts;
  }
}
