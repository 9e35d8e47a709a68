import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  KNOWLEDGE_BASE_DATA,
  KnowledgeBaseError,
  XFS_FALLOCATE_BUG_ID,
  builtinKnowledgeBase,
  loadKnowledgeBase,
} from '../policies/knowledge-base.js';
import { loadKnowledgeBaseFile, validateKnowledgeBase } from '../policies/knowledge-base-validate.js';

type Loose = Record<string, unknown> & { bugs: (Record<string, unknown> & { streams: Record<string, unknown>[]; fix: Record<string, unknown> })[] };
const clone = (): Loose => JSON.parse(JSON.stringify(KNOWLEDGE_BASE_DATA)) as Loose;
const bug0 = (d: Loose) => d.bugs[0]!;
const rule = (d: Loose, i: number) => d.bugs[0]!.streams[i]!;

function expectKbError(data: unknown, re: RegExp, file = 'policies/knowledge-base.ts'): void {
  assert.throws(
    () => validateKnowledgeBase(data, file),
    (e: unknown) => {
      assert.ok(e instanceof KnowledgeBaseError, String(e));
      assert.equal(e.file, file);
      assert.ok(e.message.startsWith(`knowledge base ${file}: `), e.message);
      assert.match(e.message, re);
      return true;
    },
  );
}

describe('built-in knowledge base', () => {
  test('validates: the table trusted at run time is exactly what its schema accepts', () => {
    // run time skips zod (issue 11), so this is where a broken built-in entry is caught
    assert.deepEqual(validateKnowledgeBase(KNOWLEDGE_BASE_DATA), loadKnowledgeBase());
    const kb = loadKnowledgeBase();
    assert.match(kb.revision, /^\d{4}-\d{2}-\d{2}\.\d+$/);
    assert.equal(builtinKnowledgeBase().revision, kb.revision);
  });
  const bug = () => loadKnowledgeBase().bugs.find((b) => b.id === XFS_FALLOCATE_BUG_ID)!;
  test('the XFS entry carries the facts of bug.md', () => {
    const b = bug();
    assert.equal(b.fix.commit.slice(0, 12), '249bd9087a52');
    assert.equal(b.fix.mainline, '5.5.0-rc1');
    assert.deepEqual(b.filesystems, ['xfs']);
    assert.deepEqual(b.io_modes.exposed, ['native', 'io_uring']);
    assert.ok(b.io_modes.not_exposed.includes('threads'));
    assert.equal(b.introduced.upstream, '3.15.0-rc1');
    // bug.md §7.9: "[M] 3.15" — the introduction version is from memory
    assert.equal(b.introduced.confidence, 'belief');
  });
  test('per-stream first fixed versions', () => {
    const r = (k: string) => bug().streams.find((s) => s.key === k)!;
    assert.equal(r('upstream-mainline-5.5').first_fixed, '5.5.0-rc1');
    assert.equal(r('upstream-mainline-5.5').confidence, 'verified');
    assert.equal(r('upstream-5.4.y').first_fixed, '5.4.69');
    assert.equal(r('upstream-3.15-to-5.3-no-fix').status, 'no_fix_known');
    assert.equal(r('el8-fixed-from-165').first_fixed, '4.18.0-165.el8');
    assert.equal(r('el8-fixed-from-165').comparator, 'rpm');
    assert.equal(r('el7-fixed-from-1160').first_fixed, '3.10.0-1160.el7');
    assert.equal(r('ubuntu-focal-master-abi-55').first_fixed, '55');
    assert.equal(r('ubuntu-focal-aws-abi-1030').first_fixed, '1030');
    assert.equal(r('suse-before-5.5-unknown').status, 'unknown');
  });
  test('a source that rests on a [M] (memory) fact of bug.md is belief', () => {
    const b = bug();
    const all = [
      ...b.fix.sources,
      ...b.io_modes.sources,
      ...b.introduced.sources,
      ...b.sources,
      ...b.streams.flatMap((s) => s.sources),
      ...b.mitigations.flatMap((m) => m.sources),
    ];
    const memory = all.filter((s) => s.ref.includes('[M]'));
    assert.ok(memory.length > 0);
    for (const s of memory) assert.equal(s.confidence, 'belief', s.ref);
  });
  test('not_present below 3.15 is belief (the boundary is [M])', () => {
    const r = bug().streams.find((s) => s.key === 'upstream-before-3.15')!;
    assert.equal(r.status, 'not_present');
    assert.equal(r.confidence, 'belief');
  });
  test('every rule and mitigation has a source and a confidence', () => {
    for (const s of bug().streams) {
      assert.ok(s.sources.length > 0, s.key);
      for (const src of s.sources) assert.match(src.confidence, /^(verified|inferred|belief)$/);
    }
    for (const m of bug().mitigations) assert.ok(m.sources.length > 0, m.code);
  });
});

describe('a broken entry names the file and the field', () => {
  test('first_fixed of the wrong type', () => {
    const d = clone();
    rule(d, 2).first_fixed = 5.469;
    expectKbError(d, /bugs\[0\]\.streams\[2\]\.first_fixed: expected string/);
  });
  test('fixed_from without first_fixed', () => {
    const d = clone();
    delete rule(d, 2).first_fixed;
    expectKbError(d, /bugs\[0\]\.streams\[2\]\.first_fixed: expected string/);
  });
  test('unknown stream', () => {
    const d = clone();
    rule(d, 0).streams = ['mainline', 'gentoo'];
    expectKbError(d, /bugs\[0\]\.streams\[0\]\.streams\[1\]: /);
  });
  test('bad confidence', () => {
    const d = clone();
    rule(d, 1).confidence = 'sure';
    expectKbError(d, /bugs\[0\]\.streams\[1\]\.confidence: /);
  });
  test('a rule without sources', () => {
    const d = clone();
    rule(d, 3).sources = [];
    expectKbError(d, /bugs\[0\]\.streams\[3\]\.sources: /);
  });
  test('an unknown field', () => {
    const d = clone();
    rule(d, 0).fixed_in = '5.5';
    expectKbError(d, /bugs\[0\]\.streams\[0\]: .*fixed_in/);
  });
  test('an unparsable upstream bound', () => {
    const d = clone();
    rule(d, 2).upstream_from = 'five';
    expectKbError(d, /bugs\[0\]\.streams\[2\]\.upstream_from: must be an upstream kernel version/);
  });
  test('an inverted range', () => {
    const d = clone();
    rule(d, 2).upstream_below = '5.0.0';
    expectKbError(d, /bugs\[0\]\.streams\[2\]\.upstream_below: must be greater than upstream_from/);
  });
  test('duplicate rule key', () => {
    const d = clone();
    rule(d, 1).key = rule(d, 0).key;
    expectKbError(d, /bugs\[0\]\.streams\[1\]\.key: duplicate rule key/);
  });
  test('bad revision', () => {
    const d = clone();
    d.revision = 'today';
    expectKbError(d, /revision: must look like 2026-11-24\.1/);
  });
  test('not an object', () => {
    expectKbError(null, /\(root\): /);
  });
  test('the file name given is the one reported', () => {
    const d = clone();
    bug0(d).fix.commit = 'xyz';
    expectKbError(d, /bugs\[0\]\.fix\.commit: must be a hex commit id/, '/etc/xfsguard/kb.json');
  });
});

describe('loadKnowledgeBaseFile', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xfsguard-kb-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  test('round-trips the built-in data as JSON', () => {
    const f = path.join(dir, 'kb.json');
    writeFileSync(f, JSON.stringify(KNOWLEDGE_BASE_DATA));
    assert.deepEqual(loadKnowledgeBaseFile(f), loadKnowledgeBase());
  });
  test('JSON syntax error names the file', () => {
    const f = path.join(dir, 'broken.json');
    writeFileSync(f, '{');
    assert.throws(() => loadKnowledgeBaseFile(f), (e: Error) => e instanceof KnowledgeBaseError && e.message.startsWith(`knowledge base ${f}: invalid JSON`));
  });
  test('a broken entry names the file and field', () => {
    const f = path.join(dir, 'bad.json');
    const d = clone();
    rule(d, 2).first_fixed = 5;
    writeFileSync(f, JSON.stringify(d));
    assert.throws(() => loadKnowledgeBaseFile(f), (e: Error) => e.message.startsWith(`knowledge base ${f}: bugs[0].streams[2].first_fixed: expected string`));
  });
});
