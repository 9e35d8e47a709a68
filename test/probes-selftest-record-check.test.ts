// The zod-free record check must never accept what cacheFileSchema rejects or would change, and
// must know every field of the schema (else well-formed records fall back to zod: slow, not wrong).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPlainCacheFile } from '../probes/selftest-record-check.js';
import { cacheFileSchema, raceResultSchema, selfTestReportSchema } from '../probes/selftest-schema.js';

function record(): Record<string, unknown> {
  return {
    format: 'xfsguard-selftest-cache',
    format_version: 1,
    written_at: '2026-11-24T00:00:05.000Z',
    report: {
      format_version: 1, outcome: 'reproduced', directory: '/mnt/xfs', device: '7:0', fs_uuid: 'a1b2', fs_type: 'xfs',
      kernel_release: '5.4.0-42-generic', boot_id: 'boot-a', started_at: '2026-11-24T00:00:00.000Z', duration_ms: 5000.5,
      bytes_written: 65536, iterations: 200, reproductions: 3, engines: ['aio', 'io_uring'], modes: ['zero-range', 'alloc'], reason: null,
      below_range_outcome: 'not_reproduced', timeout: { deadline_ms: 20000, message: 'the device did not respond' },
      runs: [
        {
          engine: 'aio', mode: 'zero-range', outcome: 'reproduced', iterations: 100, reproductions: 3, in_flight_iterations: 97,
          first_reproduction: { iteration: 4, io_size: 4096, write_offset: 0, falloc_offset: 8192, falloc_len: 4096, expected_size: 12288, actual_size: 8192, data_mismatch: true },
          io_sizes: [4096, 65536], duration_ms: 2500.25, bytes_written: 32768, block_size: 4096, scratch: 'o_tmpfile', cancelled: false, reason: null,
          window: 'below_range', completed_before_fallocate: 2, first_reproduction_ms: 12.5,
        },
        {
          engine: 'io_uring', mode: 'alloc', outcome: 'unsupported', iterations: 0, reproductions: 0, in_flight_iterations: 0,
          first_reproduction: null, io_sizes: [], duration_ms: 1, bytes_written: 0, block_size: 4096, scratch: 'none', cancelled: false,
          reason: { stage: 'io_uring_setup', errno: 'ENOSYS', message: 'io_uring is not available' },
        },
      ],
    },
  };
}

const CANDIDATES: unknown[] = [undefined, null, '', 'x', 0, -1, 1.5, 2 ** 60, true, [], {}, [4096], ['aio'], 'aio', 'alloc', 'reproduced', 'none', 1, 'xfsguard-selftest-cache', 'beyond_eof'];

/** Every variant of the record with one value replaced (or removed), and one extra key per object. */
function* variants(): Generator<unknown> {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]) => {
    paths.push(p);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...p, i]));
    else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  };
  walk(record(), []);
  for (const p of paths) {
    if (p.length === 0) continue;
    for (const c of CANDIDATES) {
      const r = record();
      let o = r as Record<string | number, unknown>;
      for (const k of p.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
      const last = p[p.length - 1]!;
      if (c === undefined && !Array.isArray(o)) delete o[last];
      else o[last] = c;
      yield r;
    }
    const r = record();
    let o = r as Record<string | number, unknown>;
    for (const k of p) o = o[k] as Record<string | number, unknown>;
    if (typeof o === 'object' && o !== null && !Array.isArray(o)) {
      (o as Record<string, unknown>).extra = 1;
      yield r;
    }
  }
}

test('the record check accepts only what the schema accepts unchanged', () => {
  let accepted = 0;
  let total = 0;
  for (const v of variants()) {
    total += 1;
    if (!isPlainCacheFile(v)) continue;
    accepted += 1;
    const parsed = cacheFileSchema.safeParse(v);
    assert.ok(parsed.success, `the check accepted what the schema rejects: ${JSON.stringify(v)}`);
    assert.deepEqual(parsed.data, v, 'the schema would have changed the record');
  }
  // the mutations include valid ones (other enum values, null for nullable fields, fewer runs)
  assert.ok(accepted > 20 && accepted < total / 2, `accepted ${accepted} of ${total}`);
});

test('the record check knows every field of the schema', () => {
  const r = record();
  const report = r.report as Record<string, unknown>;
  const run = (report.runs as Record<string, unknown>[])[0]!;
  assert.deepEqual(Object.keys(cacheFileSchema.shape).sort(), Object.keys(r).sort());
  assert.deepEqual(Object.keys(selfTestReportSchema.shape).sort(), Object.keys(report).sort(), 'the fixture lacks a report field the schema has: add it here and to probes/selftest-record-check.ts');
  assert.deepEqual(Object.keys(raceResultSchema.shape).sort(), Object.keys(run).sort(), 'the fixture lacks a run field the schema has: add it here and to probes/selftest-record-check.ts');
  assert.ok(cacheFileSchema.safeParse(r).success);
  assert.equal(isPlainCacheFile(r), true);
  assert.equal(isPlainCacheFile(JSON.parse(JSON.stringify(r))), true);
});

test('things that are not records', () => {
  for (const v of [null, undefined, 'x', 1, [], [record()], Object.assign(Object.create(null) as object, record())]) assert.equal(isPlainCacheFile(v), false);
});
