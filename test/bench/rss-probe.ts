// Loaded in front of api-bench-servers.ts by rss-breakdown.ts: answers {type: 'v8'} over IPC with
// the V8 heap spaces and process.memoryUsage(), so the breakdown can tell V8's share of the RSS
// from the rest. The servers file then starts the role named on the command line.
import { PerformanceObserver, constants } from 'node:perf_hooks';
import v8 from 'node:v8';
import './api-bench-servers.js';

export interface V8Answer {
  type: 'v8';
  memory: NodeJS.MemoryUsage;
  spaces: { name: string; physical: number; size: number; used: number }[];
  /** Main-thread GC pauses since start: count and total ms, young (scavenge) and full (mark-compact). */
  gc: { young: number; youngMs: number; full: number; fullMs: number };
}

// The GC's share of the CPU a flag trades for memory: pauses as V8 reports them.
const gc = { young: 0, youngMs: 0, full: 0, fullMs: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
      gc.young += 1;
      gc.youngMs += e.duration;
    } else {
      gc.full += 1;
      gc.fullMs += e.duration;
    }
  }
}).observe({ entryTypes: ['gc'] });

process.on('message', (msg: { type: string }) => {
  if (msg.type !== 'v8') return;
  const answer: V8Answer = {
    type: 'v8',
    memory: process.memoryUsage(),
    gc: { ...gc },
    spaces: v8.getHeapSpaceStatistics().map((s) => ({ name: s.space_name, physical: s.physical_space_size, size: s.space_size, used: s.space_used_size })),
  };
  process.send!(answer);
});
