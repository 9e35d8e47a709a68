// A zod-free check that a cached self-test record has exactly the shape of cacheFileSchema
// (selftest-schema.ts), so that `check` reads a well-formed record without loading zod (importing
// zod alone costs most of node's own start-up). Stricter than the schema: an unknown key, or
// anything this does not know, is "no" — the caller then parses with zod, which decides and words
// the warning. It must never say yes where the schema says no (test/probes-selftest-record-check
// cross-checks the two).
import type { CacheFile } from './selftest-schema.js';

type Check = (v: unknown) => boolean;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str: Check = (v) => typeof v === 'string';
const num: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const count: Check = (v) => Number.isSafeInteger(v) && (v as number) >= 0;
const bool: Check = (v) => typeof v === 'boolean';
const nullable = (c: Check): Check => (v) => v === null || c(v);
const oneOf = (...values: readonly unknown[]): Check => (v) => values.includes(v);
const arrayOf = (c: Check): Check => (v) => Array.isArray(v) && v.every(c);

/** An object with exactly these keys (none missing, none extra) plus any of `optional`, each passing its check. */
function exact(shape: Record<string, Check>, optional: Record<string, Check> = {}): Check {
  const keys = Object.keys(shape);
  return (v) => {
    if (!isObject(v) || Object.getPrototypeOf(v) !== Object.prototype) return false;
    let extra = 0;
    for (const k of Object.keys(v)) {
      if (Object.hasOwn(shape, k)) continue;
      if (!Object.hasOwn(optional, k) || !optional[k]!(v[k])) return false;
      extra += 1;
    }
    return Object.keys(v).length - extra === keys.length && keys.every((k) => Object.hasOwn(v, k) && shape[k]!(v[k]));
  };
}

const ENGINE = oneOf('aio', 'io_uring');
const MODE = oneOf('zero-range', 'alloc');
const OUTCOME = oneOf('reproduced', 'not_reproduced', 'unsupported');

const raceResult = exact({
  engine: ENGINE,
  mode: MODE,
  outcome: OUTCOME,
  iterations: count,
  reproductions: count,
  in_flight_iterations: count,
  first_reproduction: nullable(
    exact({
      iteration: num,
      io_size: num,
      write_offset: num,
      falloc_offset: num,
      falloc_len: num,
      expected_size: num,
      actual_size: num,
      data_mismatch: bool,
    }),
  ),
  io_sizes: arrayOf(num),
  duration_ms: num,
  bytes_written: num,
  block_size: num,
  scratch: oneOf('o_tmpfile', 'unlinked_name', 'none'),
  cancelled: bool,
  reason: nullable(exact({ stage: str, errno: str, message: str })),
}, {
  window: oneOf('beyond_eof', 'eof_prealloc', 'below_range'),
  completed_before_fallocate: count,
  first_reproduction_ms: nullable(num),
});

const report = exact({
  format_version: oneOf(1),
  outcome: OUTCOME,
  directory: str,
  device: str,
  fs_uuid: nullable(str),
  fs_type: str,
  kernel_release: str,
  boot_id: nullable(str),
  started_at: str,
  duration_ms: num,
  bytes_written: num,
  iterations: count,
  reproductions: count,
  engines: arrayOf(ENGINE),
  modes: arrayOf(MODE),
  runs: arrayOf(raceResult),
  reason: nullable(str),
}, {
  below_range_outcome: nullable(OUTCOME),
  timeout: nullable(exact({ deadline_ms: num, message: str })),
});

const cacheFile = exact({
  format: oneOf('xfsguard-selftest-cache'),
  format_version: oneOf(1),
  written_at: str,
  report,
});

/** true only for a record cacheFileSchema accepts unchanged; false means "ask zod". */
export function isPlainCacheFile(v: unknown): v is CacheFile {
  return cacheFile(v);
}
