import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  DEFAULT_ALLOWED_ROOTS,
  DEFAULT_POLICY_PATH,
  PolicyError,
  defaultPolicy,
  isUnderAllowedRoots,
  isUnderPrefix,
  matchOverride,
} from '../policies/operator-policy.js';
import { loadPolicy, parsePolicy } from '../policies/policy-file.js';

const FILE = '/etc/xfsguard/policy.json';

describe('parsePolicy: good files', () => {
  test('empty object gives the defaults, with the file as source', () => {
    const p = parsePolicy('{}', FILE);
    assert.deepEqual(p, { ...defaultPolicy(), source: FILE });
  });
  test('a full file', () => {
    const p = parsePolicy(
      JSON.stringify({
        mode: 'trust-selftest',
        trust_selftest_min_iterations: 500,
        overrides: [
          { prefix: '/srv/vm/scratch/', action: 'disable', reason: 'scratch VMs, data loss acceptable' },
          { prefix: '/var/lib/libvirt//images', action: 'enable', reason: 'always on' },
        ],
        allowed_roots: ['/srv/vm', '/data/images/'],
      }),
      FILE,
    );
    assert.equal(p.mode, 'trust-selftest');
    assert.equal(p.trust_selftest_min_iterations, 500);
    assert.deepEqual(
      p.overrides.map((o) => o.prefix),
      ['/srv/vm/scratch', '/var/lib/libvirt/images'],
      'prefixes normalised',
    );
    assert.deepEqual(p.allowed_roots, ['/srv/vm', '/data/images']);
    assert.equal(p.source, FILE);
  });
  test('defaults', () => {
    const d = defaultPolicy();
    assert.equal(d.mode, 'conservative');
    assert.equal(d.trust_selftest_min_iterations, 100);
    assert.deepEqual(d.overrides, []);
    assert.deepEqual(d.allowed_roots, [...DEFAULT_ALLOWED_ROOTS]);
    assert.equal(d.source, 'built-in defaults');
    assert.equal(DEFAULT_POLICY_PATH, '/etc/xfsguard/policy.json');
  });
  test('the policy file install ships says what the built-in defaults say', () => {
    const shipped = fileURLToPath(new URL('../service/systemd/policy.json', import.meta.url));
    const p = parsePolicy(readFileSync(shipped, 'utf8'), shipped);
    const d = defaultPolicy();
    assert.deepEqual({ ...p, source: d.source }, d);
  });
});

describe('parsePolicy: bad files name the file, the field and the problem', () => {
  const bad: [string, string, RegExp][] = [
    ['JSON syntax error', '{"mode": "conservative",}', /^\/etc\/xfsguard\/policy\.json: invalid JSON: /],
    ['not an object', '[]', /policy\.json: \(root\): expected a JSON object/],
    ['null', 'null', /policy\.json: \(root\): expected a JSON object/],
    ['unknown top-level key', '{"mode":"conservative","moed":"x"}', /policy\.json: moed: unknown key/],
    ['unknown key in an override', '{"overrides":[{"prefix":"/a","action":"enable","reason":"r","extra":1}]}', /policy\.json: overrides\[0\]\.extra: unknown key/],
    ['relative prefix', '{"overrides":[{"prefix":"var/lib","action":"enable","reason":"r"}]}', /policy\.json: overrides\[0\]\.prefix: must be an absolute path/],
    ['empty prefix', '{"overrides":[{"prefix":"","action":"enable","reason":"r"}]}', /policy\.json: overrides\[0\]\.prefix: must not be empty/],
    ['empty reason', '{"overrides":[{"prefix":"/a","action":"enable","reason":""}]}', /policy\.json: overrides\[0\]\.reason: must be a non-empty string/],
    ['blank reason', '{"overrides":[{"prefix":"/a","action":"enable","reason":"   "}]}', /overrides\[0\]\.reason: must be a non-empty string/],
    ['missing reason', '{"overrides":[{"prefix":"/a","action":"enable"}]}', /overrides\[0\]\.reason: required/],
    ['wrong action', '{"overrides":[{"prefix":"/a","action":"on","reason":"r"}]}', /overrides\[0\]\.action: must be "enable" or "disable"/],
    ['wrong mode', '{"mode":"paranoid"}', /policy\.json: mode: must be "conservative" or "trust-selftest"/],
    ['iterations as string', '{"trust_selftest_min_iterations":"100"}', /trust_selftest_min_iterations: expected an integer ≥ 1/],
    ['iterations zero', '{"trust_selftest_min_iterations":0}', /trust_selftest_min_iterations: expected an integer ≥ 1/],
    ['iterations fractional', '{"trust_selftest_min_iterations":1.5}', /trust_selftest_min_iterations: expected an integer ≥ 1/],
    ['overrides not an array', '{"overrides":{}}', /policy\.json: overrides: /],
    ['relative allowed root', '{"allowed_roots":["/ok","images"]}', /policy\.json: allowed_roots\[1\]: must be an absolute path/],
    ['allowed root of wrong type', '{"allowed_roots":[42]}', /allowed_roots\[0\]: expected a string/],
    ['prefix of wrong type', '{"overrides":[{"prefix":7,"action":"enable","reason":"r"}]}', /overrides\[0\]\.prefix: expected a string/],
    [
      'duplicate prefix',
      '{"overrides":[{"prefix":"/a","action":"enable","reason":"r"},{"prefix":"/a/","action":"disable","reason":"r"}]}',
      /overrides\[1\]\.prefix: duplicate of overrides\[0\]\.prefix/,
    ],
  ];
  for (const [name, text, re] of bad) {
    test(name, () => {
      assert.throws(
        () => parsePolicy(text, FILE),
        (e: unknown) => {
          assert.ok(e instanceof PolicyError, String(e));
          assert.equal(e.file, FILE);
          assert.match(e.message, re);
          assert.ok(e.message.startsWith(`${FILE}: `), e.message);
          return true;
        },
      );
    });
  }
  test('a duplicate key is refused in one line naming it (JSON.parse would keep the last silently)', () => {
    for (const [text, key] of [
      ['{"allowed_roots":["/x"],"allowed_roots":["/"]}', 'allowed_roots'],
      ['{"mode":"conservative",\n "overrides":[{"prefix":"/a","action":"enable","reason":"r","action":"disable"}]}', 'action'],
    ] as const) {
      assert.throws(
        () => parsePolicy(text, FILE),
        (e: Error) => e instanceof PolicyError && e.message.includes(`duplicate key "${key}"`) && e.message.startsWith(FILE) && !e.message.includes('\n'),
      );
    }
    // the same key in two different objects is no duplicate
    const p = parsePolicy('{"overrides":[{"prefix":"/a","action":"enable","reason":"r"},{"prefix":"/b","action":"enable","reason":"r"}]}', FILE);
    assert.equal(p.overrides.length, 2);
  });
  test('several problems are all reported', () => {
    assert.throws(
      () => parsePolicy('{"mode":"x","overrides":[{"prefix":"rel","action":"enable","reason":""}]}', FILE),
      (e: Error) => /mode: /.test(e.message) && /overrides\[0\]\.prefix: /.test(e.message) && /overrides\[0\]\.reason: /.test(e.message),
    );
  });
});

describe('loadPolicy', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xfsguard-policy-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  test('missing default file → built-in defaults', () => {
    const p = loadPolicy(path.join(dir, 'absent.json'));
    assert.deepEqual(p, defaultPolicy());
  });
  test('missing explicitly given file → error naming it', () => {
    const f = path.join(dir, 'absent.json');
    assert.throws(() => loadPolicy(f, { mustExist: true }), (e: Error) => e instanceof PolicyError && e.message === `${f}: cannot read: ENOENT`);
  });
  test('a good file', () => {
    const f = path.join(dir, 'good.json');
    writeFileSync(f, JSON.stringify({ mode: 'trust-selftest' }));
    const p = loadPolicy(f, { mustExist: true });
    assert.equal(p.mode, 'trust-selftest');
    assert.equal(p.source, f);
  });
  test('a broken file is an error even when it is the default path (nothing partial)', () => {
    const f = path.join(dir, 'bad.json');
    writeFileSync(f, '{"mode": "trust-selftest", "overrides": [{"prefix": "x"}]}');
    assert.throws(() => loadPolicy(f), (e: Error) => e instanceof PolicyError && e.message.startsWith(`${f}: overrides[0].prefix: must be an absolute path`));
  });
  test('a directory is not readable as a policy', () => {
    assert.throws(() => loadPolicy(dir), (e: Error) => e instanceof PolicyError && e.message.startsWith(`${dir}: cannot read: `));
  });
});

describe('path prefix matching', () => {
  const cases: [string, string, boolean][] = [
    ['/var/lib/libvirt/images', '/var/lib/libvirt/images', true],
    ['/var/lib/libvirt/images/vm.qcow2', '/var/lib/libvirt/images', true],
    ['/var/lib/libvirt/images/', '/var/lib/libvirt/images', true],
    ['/var/lib/libvirt/images2', '/var/lib/libvirt/images', false],
    ['/var/lib/libvirt/imag', '/var/lib/libvirt/images', false],
    ['/var/lib/libvirt', '/var/lib/libvirt/images', false],
    ['/var/lib/libvirt/images/../../../etc', '/var/lib/libvirt/images', false],
    ['/anything', '/', true],
    ['/srv/vm//a', '/srv/vm/', true],
  ];
  for (const [p, prefix, want] of cases) {
    test(`isUnderPrefix(${p}, ${prefix}) = ${want}`, () => assert.equal(isUnderPrefix(p, prefix), want));
  }
  test('isUnderAllowedRoots', () => {
    const pol = defaultPolicy();
    assert.equal(isUnderAllowedRoots('/var/lib/libvirt/images/a.qcow2', pol), true);
    assert.equal(isUnderAllowedRoots('/var/lib/nova/instances/uuid/disk', pol), true);
    assert.equal(isUnderAllowedRoots('/var/lib/kubevirt', pol), true);
    assert.equal(isUnderAllowedRoots('/srv/vm', pol), true);
    assert.equal(isUnderAllowedRoots('/srv/vm2', pol), false);
    assert.equal(isUnderAllowedRoots('/etc/passwd', pol), false);
    assert.equal(isUnderAllowedRoots('relative/path', pol), false);
    assert.equal(isUnderAllowedRoots('/var/lib/libvirt/images/../../../../etc', pol), false);
  });
  test('matchOverride: longest prefix over several paths', () => {
    const pol = parsePolicy(
      JSON.stringify({
        overrides: [
          { prefix: '/var', action: 'enable', reason: 'a' },
          { prefix: '/var/lib/libvirt/images', action: 'disable', reason: 'b' },
        ],
      }),
      FILE,
    );
    assert.equal(matchOverride(['/var/lib/libvirt/images/x.qcow2'], pol)?.reason, 'b');
    assert.equal(matchOverride(['/var/lib/other'], pol)?.reason, 'a');
    assert.equal(matchOverride(['/srv'], pol), null);
  });
});
