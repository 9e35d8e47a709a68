// The engine rule of issue 10: a belief never turns the workaround off, and no release the sources show
// affected or unknown is judged fixed or not present — checked over every rule of the knowledge base.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decide } from '../policies/decide.js';
import { kernelStatus, parseKernelRelease } from '../policies/kernel-release.js';
import { XFS_FALLOCATE_BUG_ID } from '../policies/knowledge-base.js';
import { input, kernelFacts, KB, selftest } from './policies-fixtures.js';

// At least one release for every rule of the knowledge base (checked below), and the bare old versions.
const RELEASES = [
  '3.14.79', '3.10.0', '3.2.0', '2.6.32', '3.14.0-rc5', '5.5.0-rc1', '5.4.68', '5.4.69', '4.19.325', '5.10.200',
  '4.19.113-1.el7.elrepo.x86_64', '5.4.69-1.el7.elrepo.x86_64', '6.6.8-1.el8.elrepo.x86_64', '3.10.0-1.el7.elrepo.x86_64',
  '3.10.0-123.el7.x86_64', '3.10.0-1127.19.1.el7.x86_64', '3.10.0-1160.el7.x86_64', '3.10.0-693.el7.x86_64',
  '4.18.0-147.94.1.el8_1.x86_64', '4.18.0-193.el8.x86_64', '4.18.0-80.el8.x86_64', '5.14.0-70.13.1.el9_0',
  '5.8.0-63-generic', '5.4.0-54-generic', '5.4.0-55-generic', '5.4.0-1030-aws', '5.4.0-1036-azure', '4.15.0-42-generic',
  '6.1.0-18-amd64', '5.4.0-0.bpo.4-amd64', '4.19.0-27-amd64', '5.14.21-150500.55.44-default', '4.12.14-122.37-default',
  '5.4.69-050469-generic', '5.4.203-1-pve', '4.19.100-0419100-generic', '6.8.12-4-pve', '6.1.192-xfsrace', '5.4.80-custom',
  '6.5.6-300.fc39.x86_64', '5.3.7-301.fc31.x86_64', 'garbage',
];
// with /proc/version_signature
const SIGNED: [string, string][] = [
  ['5.4.0-42-generic', 'Ubuntu 5.4.0-42.46-generic 5.4.44'],
  ['5.4.0-55-generic', 'Ubuntu 5.4.0-55.61-generic 5.4.73'],
];
const CASES: [string, string | null][] = [...RELEASES.map((r): [string, null] => [r, null]), ...SIGNED];

describe('engine rule over the whole knowledge base', () => {
  test('every rule is exercised by at least one release here', () => {
    const used = new Set(CASES.map(([r, signature]) => kernelStatus(parseKernelRelease(r, { signature }), KB, XFS_FALLOCATE_BUG_ID).rule));
    const rules = KB.bugs[0]!.streams.map((r) => r.key);
    assert.deepEqual(rules.filter((k) => !used.has(k)), []);
  });
  for (const [release, signature] of CASES) {
    test(`${release}${signature ? ' [sig]' : ''}: the decision never goes further than the table's confidence allows`, () => {
      const st = kernelStatus(parseKernelRelease(release, { signature }), KB, XFS_FALLOCATE_BUG_ID);
      const d = decide(input({ kernel: kernelFacts(release, { version_signature: signature }) }));
      if (st.status === 'affected' || st.status === 'unknown') assert.equal(d.enable_workaround, true, `${st.rule}: ${d.verdict}`);
      if (st.confidence === 'belief') assert.equal(d.enable_workaround, true, `belief (${st.rule}) turned the workaround off`);
      if (!d.enable_workaround) assert.ok(d.reasons.some((r) => r.detail.includes(st.rule)), 'the reason names the rule');
    });
  }
  test('a clean self-test of the running kernel lets a belief stand; a reproduced one overrules every table', () => {
    const clean = decide(input({ release: '3.14.79', selftest: selftest('not_reproduced', {}, '3.14.79') }));
    assert.equal(clean.verdict, 'not_affected');
    const raced = decide(input({ release: '3.10.0-123.el7.x86_64', selftest: selftest('reproduced', {}, '3.10.0-123.el7.x86_64') }));
    assert.equal(raced.verdict, 'affected');
  });
});
