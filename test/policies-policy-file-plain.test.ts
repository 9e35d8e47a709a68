// The schema-free reading of plainly well-formed policy files (policies/policy-file-plain.ts) must
// give exactly what PolicyFileSchema gives (same values, same key order), and never accept what the
// schema rejects. Inputs: the shipped file, the README's shapes, and every one-field variation of a
// full file over values that are valid, odd-but-valid and invalid.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { plainPolicyFile } from '../policies/policy-file-plain.js';
import { policyFileSchemas } from '../policies/policy-file-schema.js';

const { PolicyFileSchema } = policyFileSchemas();

function agrees(data: unknown): 'plain' | 'schema only' | 'rejected' {
  const plain = plainPolicyFile(data);
  const r = PolicyFileSchema.safeParse(data);
  const what = JSON.stringify(data);
  if (plain === null) return r.success ? 'schema only' : 'rejected';
  assert.ok(r.success, `plain accepted what the schema rejects: ${what}`);
  assert.equal(JSON.stringify(plain), JSON.stringify(r.data), `different reading of ${what}`);
  return 'plain';
}

const full = {
  mode: 'trust-selftest',
  trust_selftest_min_iterations: 500,
  overrides: [
    { prefix: '/srv/vm/scratch/', action: 'disable', reason: 'scratch VMs' },
    { prefix: '/var/lib/libvirt//images', action: 'enable', reason: 'always on' },
  ],
  allowed_roots: ['/srv/vm', '/data/images/', '/a/./b/../c'],
};

const PATHS: unknown[] = ['/x', '/x/', '//x//y/', '/a/../..', '/', '', 'rel', './x', '/nul\0', 1, null, [], {}, true];
const VALUES: Record<string, unknown[]> = {
  mode: ['conservative', 'trust-selftest', 'Conservative', '', null, 1, [], {}],
  trust_selftest_min_iterations: [1, 100, 2 ** 53 - 1, 2 ** 53, 0, -1, 1.5, Number.POSITIVE_INFINITY, '100', null, [], true],
  overrides: [[], null, {}, 'x', [null], [[]], [1]],
  allowed_roots: [[], null, {}, '/x', [null], ...PATHS.map((p) => [p]), ['/a', '/a'], ['/a', '/b/']],
};
const OVERRIDE_VALUES: Record<string, unknown[]> = {
  prefix: PATHS,
  action: ['enable', 'disable', 'Enable', '', null, 1],
  reason: ['why', ' why ', '', '   ', '\t', null, 1, ['x']],
};

test('the shipped policy and the usual shapes are read without the schema', () => {
  const shipped = JSON.parse(readFileSync(new URL('../service/systemd/policy.json', import.meta.url), 'utf8')) as unknown;
  for (const data of [shipped, {}, full, { allowed_roots: ['/mnt/images'] }, { overrides: [{ prefix: '/x', action: 'enable', reason: 'r' }] }]) {
    assert.equal(agrees(data), 'plain', JSON.stringify(data));
  }
});

test('every one-field variation: the same reading as the schema, or left to it', (t) => {
  const seen = { plain: 0, 'schema only': 0, rejected: 0 };
  const tally = (data: unknown) => seen[agrees(data)]++;
  for (const [key, values] of Object.entries(VALUES)) {
    for (const v of values) tally({ ...full, [key]: v });
    const without: Record<string, unknown> = { ...full };
    delete without[key];
    tally(without);
  }
  for (const [key, values] of Object.entries(OVERRIDE_VALUES)) {
    for (const v of values) tally({ ...full, overrides: [{ ...full.overrides[0], [key]: v }] });
    const without: Record<string, unknown> = { ...full.overrides[0] };
    delete without[key];
    tally({ ...full, overrides: [without] });
  }
  // unknown keys, on the file and on an override; duplicate prefixes, also after normalising
  tally({ ...full, extra: 1 });
  tally(JSON.parse('{"__proto__": {"mode": "x"}}'));
  tally({ ...full, overrides: [{ ...full.overrides[0], extra: 1 }] });
  tally({ ...full, overrides: [full.overrides[0], full.overrides[0]] });
  tally({ ...full, overrides: [{ prefix: '/a/', action: 'enable', reason: 'r' }, { prefix: '/a', action: 'disable', reason: 'r' }] });
  for (const root of [null, 1, 'x', [], [1]]) tally(root);
  t.diagnostic(JSON.stringify(seen));
  assert.ok(seen.plain >= 20 && seen.rejected >= 40, JSON.stringify(seen));
});
