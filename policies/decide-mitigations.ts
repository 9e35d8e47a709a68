// What to do when the workaround is needed: the knowledge base's mitigations that apply to the filesystem
// kind — and, when the self-test's below-range case reproduced (contract C1), not QEMU's own serialisation,
// which covers only writes from the zeroed offset up: then only aio=threads, cache=writeback or a fixed kernel.
import type { FsKind } from './decide-filesystem.js';
import { reportExtras } from './decide-selftest.js';
import type { ReasonItem } from './decide-types.js';
import type { KbBug } from './knowledge-base-schema.js';
import type { SelfTestEvidence } from '../probes/types.js';

/** The mitigations that remain sufficient when QEMU's serialisation is not (C1). */
export const BELOW_RANGE_SUFFICIENT: readonly string[] = ['use_aio_threads', 'use_cache_writeback', 'upgrade_kernel'];

export function pickMitigations(bug: KbBug, kind: FsKind, selftest: SelfTestEvidence | null): ReasonItem[] {
  const wanted = new Set<string>(['any']);
  if (kind === 'xfs') wanted.add('xfs');
  else if (kind === 'network' || kind === 'fuse') wanted.add('network');
  else {
    wanted.add('xfs');
    wanted.add('network');
  }
  const all = bug.mitigations.filter((m) => wanted.has(m.applies_to));
  const belowRange = reportExtras(selftest).below_range_outcome === 'reproduced';
  return all.filter((m) => !belowRange || BELOW_RANGE_SUFFICIENT.includes(m.code)).map((m) => ({ code: m.code, detail: m.detail }));
}
