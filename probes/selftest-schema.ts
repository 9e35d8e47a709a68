// zod schemas for self-test reports: they are read back from the state directory, which another
// program (or an older xfsguard) may have written, so nothing is trusted unchecked.
import { z } from 'zod';

export const raceRefusalSchema = z.object({ stage: z.string(), errno: z.string(), message: z.string() });

export const raceResultSchema = z.object({
  engine: z.enum(['aio', 'io_uring']),
  mode: z.enum(['zero-range', 'alloc']),
  outcome: z.enum(['reproduced', 'not_reproduced', 'unsupported']),
  iterations: z.number().int().nonnegative(),
  reproductions: z.number().int().nonnegative(),
  in_flight_iterations: z.number().int().nonnegative(),
  first_reproduction: z
    .object({
      iteration: z.number(),
      io_size: z.number(),
      write_offset: z.number(),
      falloc_offset: z.number(),
      falloc_len: z.number(),
      expected_size: z.number(),
      actual_size: z.number(),
      data_mismatch: z.boolean(),
    })
    .nullable(),
  io_sizes: z.array(z.number()),
  duration_ms: z.number(),
  bytes_written: z.number(),
  block_size: z.number(),
  scratch: z.enum(['o_tmpfile', 'unlinked_name', 'none']),
  cancelled: z.boolean(),
  reason: raceRefusalSchema.nullable(),
  window: z.enum(['beyond_eof', 'eof_prealloc', 'below_range']).optional(),
  completed_before_fallocate: z.number().int().nonnegative().optional(),
  first_reproduction_ms: z.number().nullable().optional(),
});

export const selfTestReportSchema = z.object({
  format_version: z.literal(1),
  outcome: z.enum(['reproduced', 'not_reproduced', 'unsupported']),
  directory: z.string(),
  device: z.string(),
  fs_uuid: z.string().nullable(),
  fs_type: z.string(),
  kernel_release: z.string(),
  boot_id: z.string().nullable(),
  started_at: z.string(),
  duration_ms: z.number(),
  bytes_written: z.number(),
  iterations: z.number().int().nonnegative(),
  reproductions: z.number().int().nonnegative(),
  engines: z.array(z.enum(['aio', 'io_uring'])),
  modes: z.array(z.enum(['zero-range', 'alloc'])),
  runs: z.array(raceResultSchema),
  reason: z.string().nullable(),
  below_range_outcome: z.enum(['reproduced', 'not_reproduced', 'unsupported']).nullable().optional(),
  timeout: z.object({ deadline_ms: z.number(), message: z.string() }).nullable().optional(),
});

export const cacheFileSchema = z.object({
  format: z.literal('xfsguard-selftest-cache'),
  format_version: z.literal(1),
  written_at: z.string(),
  report: selfTestReportSchema,
});
export type CacheFile = z.infer<typeof cacheFileSchema>;
