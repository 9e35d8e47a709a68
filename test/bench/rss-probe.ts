// Loaded in front of api-bench-servers.ts by rss-breakdown.ts: answers {type: 'v8'} over IPC with
// the V8 heap spaces and process.memoryUsage(), so the breakdown can tell V8's share of the RSS
// from the rest. The servers file then starts the role named on the command line.
import v8 from 'node:v8';
import './api-bench-servers.js';

export interface V8Answer {
  type: 'v8';
  memory: NodeJS.MemoryUsage;
  spaces: { name: string; physical: number; size: number; used: number }[];
}

process.on('message', (msg: { type: string }) => {
  if (msg.type !== 'v8') return;
  const answer: V8Answer = {
    type: 'v8',
    memory: process.memoryUsage(),
    spaces: v8.getHeapSpaceStatistics().map((s) => ({ name: s.space_name, physical: s.physical_space_size, size: s.space_size, used: s.space_used_size })),
  };
  process.send!(answer);
});
