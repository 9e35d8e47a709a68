import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decide, exitCodeFor, type Decision, type DecisionConfidence, type Verdict } from '../policies/decide.js';
import { renderExplanation, renderSummary } from '../policies/explain.js';
import { KNOWLEDGE_BASE_DATA } from '../policies/knowledge-base.js';
import type { IoMode, SelfTestEvidence } from '../probes/types.js';
import { DEVICE, fsFacts, input, kernelFacts, policy, selftest } from './policies-fixtures.js';

const codes = (d: Decision): string[] => d.reasons.map((r) => r.code);

// Kernels by table status
const K = {
  affected: '4.19.325', // upstream 4.19.y: no fix known (inferred)
  affected_verified: '5.4.68', // below 5.4.69 (verified)
  fixed: '5.10.200', // upstream ≥ 5.5 (verified)
  unknown: '5.3.18-150300.59.93-default', // SUSE < 5.5: which branch carries the fix is not known
  not_present: '3.14.79',
  custom_fixed: '6.1.192-xfsrace', // fixed by upstream version only (belief)
} as const;

type Outcome = 'reproduced' | 'not_reproduced' | 'unsupported' | null;

function st(outcome: Outcome, release: string, iterations?: number): SelfTestEvidence | null {
  if (outcome === null) return null;
  return selftest(outcome, iterations === undefined ? {} : { iterations }, release);
}

describe('decision matrix: XFS × kernel status × self-test × policy × I/O mode', () => {
  type Row = [kernel: keyof typeof K, outcome: Outcome, mode: 'conservative' | 'trust-selftest', io: IoMode | null, verdict: Verdict, conf: DecisionConfidence, enable: boolean, mustHave: string[]];
  const rows: Row[] = [
    // evidence beats tables
    ['custom_fixed', 'reproduced', 'conservative', null, 'affected', 'proven', true, ['selftest_reproduced']],
    ['fixed', 'reproduced', 'conservative', 'native', 'affected', 'proven', true, ['selftest_reproduced']],
    ['fixed', 'reproduced', 'trust-selftest', 'io_uring', 'affected', 'proven', true, ['selftest_reproduced']],
    ['unknown', 'reproduced', 'conservative', null, 'affected', 'proven', true, ['selftest_reproduced']],
    ['not_present', 'reproduced', 'conservative', null, 'affected', 'proven', true, ['selftest_reproduced']],
    // reproduced, but the VM uses threads: not exposed for that mode
    ['fixed', 'reproduced', 'conservative', 'threads', 'not_affected', 'medium', false, ['selftest_reproduced', 'io_mode_not_exposed']],
    // table says affected
    ['affected', null, 'conservative', null, 'affected', 'medium', true, ['kernel_no_fix_known', 'selftest_none', 'io_mode_assumed_exposed']],
    ['affected', 'not_reproduced', 'conservative', 'native', 'affected', 'medium', true, ['kernel_no_fix_known', 'selftest_clean_not_proof']],
    ['affected', 'not_reproduced', 'trust-selftest', 'native', 'affected', 'medium', true, ['kernel_no_fix_known', 'selftest_clean_not_proof']],
    ['affected_verified', null, 'conservative', 'io_uring', 'affected', 'high', true, ['kernel_below_first_fixed', 'io_mode_exposed']],
    ['affected', 'unsupported', 'conservative', null, 'affected', 'medium', true, ['selftest_unsupported']],
    ['affected', null, 'conservative', 'threads', 'not_affected', 'medium', false, ['kernel_no_fix_known', 'io_mode_not_exposed']],
    // table says fixed
    ['fixed', null, 'conservative', null, 'fixed', 'high', false, ['kernel_fixed_upstream']],
    ['fixed', 'not_reproduced', 'conservative', 'native', 'fixed', 'high', false, ['kernel_fixed_upstream', 'selftest_clean_supports_fixed']],
    ['fixed', 'unsupported', 'conservative', null, 'fixed', 'high', false, ['selftest_unsupported']],
    // a belief never turns the workaround off: fixed by version only needs a clean self-test to agree
    ['custom_fixed', null, 'conservative', null, 'unknown', 'low', true, ['kernel_fixed_by_upstream_version_only', 'kernel_belief_not_enough']],
    ['custom_fixed', 'not_reproduced', 'conservative', null, 'fixed', 'low', false, ['selftest_clean_supports_fixed', 'selftest_corroborates_belief']],
    ['custom_fixed', 'unsupported', 'conservative', null, 'unknown', 'low', true, ['selftest_unsupported', 'kernel_belief_not_enough']],
    // table says unknown: a clean self-test is not proof under the default policy
    ['unknown', null, 'conservative', null, 'unknown', 'low', true, ['kernel_unknown', 'selftest_none']],
    ['unknown', 'not_reproduced', 'conservative', null, 'unknown', 'low', true, ['kernel_unknown', 'selftest_clean_not_proof', 'policy_conservative']],
    ['unknown', 'unsupported', 'conservative', null, 'unknown', 'low', true, ['selftest_unsupported']],
    ['unknown', 'unsupported', 'trust-selftest', null, 'unknown', 'low', true, ['selftest_unsupported']],
    ['unknown', null, 'trust-selftest', null, 'unknown', 'low', true, ['kernel_unknown']],
    ['unknown', 'not_reproduced', 'trust-selftest', null, 'fixed', 'low', false, ['selftest_trusted']],
    ['unknown', 'not_reproduced', 'trust-selftest', 'native', 'fixed', 'low', false, ['selftest_trusted']],
    ['unknown', null, 'conservative', 'threads', 'not_affected', 'medium', false, ['io_mode_not_exposed']],
    // bug not present (upstream < 3.15): the 3.15 boundary is [M] in bug.md, so only low confidence
    // (issue 10: a vendor 3.10 may carry appending AIO, as RHEL did) — a belief, so unknown until a self-test agrees
    ['not_present', null, 'conservative', null, 'unknown', 'low', true, ['kernel_bug_not_present', 'kernel_belief_not_enough']],
    ['not_present', 'not_reproduced', 'conservative', null, 'not_affected', 'low', false, ['selftest_corroborates_belief']],
  ];
  for (const [kernel, outcome, mode, io, verdict, conf, enable, mustHave] of rows) {
    test(`xfs, kernel ${kernel}, self-test ${outcome ?? 'none'}, ${mode}, io ${io ?? 'unset'} → ${verdict}/${conf}, enable=${enable}`, () => {
      const release = K[kernel];
      const d = decide(input({ release, selftest: st(outcome, release), policy: policy({ mode }), io_mode: io }));
      assert.equal(d.verdict, verdict, JSON.stringify(d.reasons, null, 1));
      assert.equal(d.confidence, conf);
      assert.equal(d.enable_workaround, enable);
      for (const c of mustHave) assert.ok(codes(d).includes(c), `missing ${c} in ${codes(d).join(',')}`);
      assert.equal(d.mitigations.length > 0, enable, 'mitigations exactly when the workaround is needed');
      assert.equal(d.provenance.knowledge_base_revision, input().knowledge_base.revision);
      assert.equal(d.provenance.bug_id, 'xfs-fallocate-aio-dio-size-race');
      assert.equal(d.format_version, 1);
    });
  }

  test('a belief is corroborated only by enough clean iterations', () => {
    const release = K.custom_fixed;
    const p = policy({ trust_selftest_min_iterations: 100 });
    const few = decide(input({ release, selftest: st('not_reproduced', release, 99), policy: p }));
    assert.equal(few.verdict, 'unknown');
    assert.equal(few.enable_workaround, true);
    assert.ok(codes(few).includes('kernel_belief_not_enough'));
    const enough = decide(input({ release, selftest: st('not_reproduced', release, 100), policy: p }));
    assert.equal(enough.verdict, 'fixed');
    assert.equal(enough.enable_workaround, false);
  });
  test('trust-selftest needs enough iterations', () => {
    const release = K.unknown;
    const few = decide(input({ release, selftest: st('not_reproduced', release, 99), policy: policy({ mode: 'trust-selftest', trust_selftest_min_iterations: 100 }) }));
    assert.equal(few.verdict, 'unknown');
    assert.equal(few.enable_workaround, true);
    assert.ok(codes(few).includes('selftest_too_few_iterations'));
    const enough = decide(input({ release, selftest: st('not_reproduced', release, 100), policy: policy({ mode: 'trust-selftest', trust_selftest_min_iterations: 100 }) }));
    assert.equal(enough.verdict, 'fixed');
    assert.equal(enough.enable_workaround, false);
  });
});

describe('decision matrix: filesystem classes', () => {
  type Row = [fs: string, verdict: Verdict, enable: boolean, code: string];
  const rows: Row[] = [
    ['ext4', 'not_affected', false, 'filesystem_not_xfs'],
    ['btrfs', 'not_affected', false, 'filesystem_not_xfs'],
    ['tmpfs', 'not_affected', false, 'filesystem_not_xfs'],
    ['zfs', 'not_affected', false, 'filesystem_not_xfs'],
    ['nfs', 'unknown', true, 'filesystem_network'],
    ['cifs', 'unknown', true, 'filesystem_network'],
    ['ceph', 'unknown', true, 'filesystem_network'],
    ['9p', 'unknown', true, 'filesystem_network'],
    ['fuse', 'unknown', true, 'filesystem_fuse'],
    ['proc', 'not_affected', false, 'filesystem_pseudo'],
    ['sysfs', 'not_affected', false, 'filesystem_pseudo'],
    ['unknown', 'unknown', true, 'filesystem_unknown'],
  ];
  for (const kernel of [K.affected, K.fixed, K.unknown]) {
    for (const [fs, verdict, enable, code] of rows) {
      test(`${fs} on kernel ${kernel} → ${verdict}`, () => {
        const d = decide(input({ release: kernel, filesystem: fsFacts(fs) }));
        assert.equal(d.verdict, verdict);
        assert.equal(d.enable_workaround, enable);
        assert.ok(codes(d).includes(code), codes(d).join(','));
        assert.equal(exitCodeFor(d), enable ? 11 : 0);
      });
    }
  }
  test('ZFS: the sibling bug is mentioned, not acted on', () => {
    const d = decide(input({ filesystem: fsFacts('zfs') }));
    assert.match(d.reasons.find((r) => r.code === 'filesystem_not_xfs')!.detail, /openzfs\/zfs#11797/);
  });
  test('network fs with aio=threads stays unknown (the server may use AIO on XFS)', () => {
    const d = decide(input({ filesystem: fsFacts('nfs'), io_mode: 'threads' }));
    assert.equal(d.verdict, 'unknown');
    assert.equal(d.enable_workaround, true);
    assert.ok(codes(d).includes('io_mode_remote_irrelevant'));
    assert.ok(d.mitigations.some((m) => m.code === 'check_server_filesystem'));
    assert.ok(!d.mitigations.some((m) => m.code === 'place_on_non_xfs'));
  });
  test('local fs of unknown type: unknown, threads rules it out', () => {
    const fs = fsFacts('unknown', { fs_class: 'local' });
    assert.equal(decide(input({ filesystem: fs })).verdict, 'unknown');
    assert.equal(decide(input({ filesystem: fs, io_mode: 'threads' })).verdict, 'not_affected');
  });
  test('overlay resolves to its upper layer', () => {
    const upper = (fsType: string, cls: 'local' | 'network') =>
      fsFacts('overlay', { overlay_upper: { directory: '/var/lib/containers/storage/overlay/abc/diff', magic_hex: '0x58465342', fs_type: fsType, fs_class: cls } });
    const x = decide(input({ release: K.affected, filesystem: upper('xfs', 'local') }));
    assert.equal(x.verdict, 'affected');
    assert.ok(codes(x).includes('filesystem_overlay_upper') && codes(x).includes('filesystem_xfs'));
    const e = decide(input({ release: K.affected, filesystem: upper('ext4', 'local') }));
    assert.equal(e.verdict, 'not_affected');
    const n = decide(input({ release: K.affected, filesystem: upper('nfs', 'network') }));
    assert.equal(n.verdict, 'unknown');
    const none = decide(input({ release: K.fixed, filesystem: fsFacts('overlay') }));
    assert.equal(none.verdict, 'unknown');
    assert.equal(none.enable_workaround, true);
    assert.ok(codes(none).includes('filesystem_overlay_unresolved'));
  });
  test('a race reproduced on a non-XFS filesystem is still affected (evidence beats tables)', () => {
    const ev = selftest('reproduced', { fs_type: 'zfs' }, K.fixed);
    const d = decide(input({ release: K.fixed, filesystem: fsFacts('zfs'), selftest: ev }));
    assert.equal(d.verdict, 'affected');
    assert.equal(d.confidence, 'proven');
    assert.equal(exitCodeFor(d), 10);
  });
});

describe('self-test applicability', () => {
  test('a self-test of another kernel, boot or filesystem is ignored and says so', () => {
    const release = K.fixed;
    for (const over of [{ kernel_release: '6.1.191' }, { boot_id: 'other-boot' }, { fs_uuid: 'other-uuid' }]) {
      const ev = selftest('reproduced', over, release);
      const d = decide(input({ release, selftest: ev }));
      assert.equal(d.verdict, 'fixed', JSON.stringify(over));
      assert.equal(d.evidence.selftest_used, false);
      assert.ok(codes(d).includes('selftest_not_applicable'));
    }
  });
  test('device is compared when no uuid is known', () => {
    const release = K.custom_fixed;
    const ev = selftest('reproduced', { fs_uuid: null, device: '8:1' }, release);
    const d = decide(input({ release, selftest: ev }));
    assert.ok(codes(d).includes('selftest_not_applicable'));
    const ok = decide(input({ release, selftest: selftest('reproduced', { fs_uuid: null, device: DEVICE }, release) }));
    assert.equal(ok.verdict, 'affected');
  });
});

describe('kernel_release_override (what-if)', () => {
  test('judges the other release; the self-test of the running kernel is ignored', () => {
    const running = K.custom_fixed;
    const d = decide(input({ release: running, selftest: st('reproduced', running), kernel_release_override: '4.19.325' }));
    assert.equal(d.verdict, 'affected');
    assert.equal(d.confidence, 'medium');
    assert.ok(codes(d).includes('selftest_ignored_what_if'));
    assert.ok(codes(d).includes('kernel_what_if'));
    assert.equal(d.evidence.kernel.release, running);
    assert.equal(d.evidence.kernel.judged_release, '4.19.325');
    assert.equal(d.evidence.kernel.what_if, true);
    assert.equal(d.evidence.selftest_used, false);
  });
  test('a what-if naming the running release is not a what-if', () => {
    const running = K.custom_fixed;
    const d = decide(input({ release: running, selftest: st('reproduced', running), kernel_release_override: running }));
    assert.equal(d.verdict, 'affected');
    assert.equal(d.evidence.kernel.what_if, false);
    assert.ok(!codes(d).includes('selftest_ignored_what_if'));
  });
  test('a reproduced self-test does not make a fixed what-if kernel affected', () => {
    const running = K.custom_fixed;
    const d = decide(input({ release: running, selftest: st('reproduced', running), kernel_release_override: '5.10.200' }));
    assert.equal(d.verdict, 'fixed');
    assert.equal(d.enable_workaround, false);
  });
  test('running kernel uname -v is not applied to the what-if release', () => {
    const d = decide(
      input({
        kernel: kernelFacts('4.19.0-27-amd64', { version: '#1 SMP Debian 4.19.316-1 (2024-05-01)' }),
        kernel_release_override: '6.1.0-18-amd64',
      }),
    );
    assert.equal(d.evidence.kernel.parsed.package_version, null);
    assert.equal(d.verdict, 'fixed');
  });
});

describe('operator overrides', () => {
  const ov = (prefix: string, action: 'enable' | 'disable', reason = `test ${prefix}`) => ({ prefix, action, reason });
  test('disable on an affected path: enable=false, verdict kept, reason and policy.override set', () => {
    const d = decide(input({ release: K.affected, policy: policy({ overrides: [ov('/var/lib/libvirt', 'disable', 'QEMU 8.2 serialises')] }) }));
    assert.equal(d.verdict, 'affected');
    assert.equal(d.enable_workaround, false);
    assert.equal(exitCodeFor(d), 0);
    assert.ok(codes(d).includes('policy_override_disable'));
    assert.deepEqual(d.policy.override, { prefix: '/var/lib/libvirt', action: 'disable', reason: 'QEMU 8.2 serialises' });
    assert.ok(d.mitigations.length > 0, 'mitigations still listed for an affected verdict');
  });
  test('enable on a not-affected path', () => {
    const d = decide(input({ filesystem: fsFacts('ext4'), policy: policy({ overrides: [ov('/var/lib', 'enable')] }) }));
    assert.equal(d.verdict, 'not_affected');
    assert.equal(d.enable_workaround, true);
    assert.equal(exitCodeFor(d), 11);
    assert.ok(codes(d).includes('policy_override_enable'));
  });
  test('override beats a proven reproduction', () => {
    const release = K.custom_fixed;
    const d = decide(input({ release, selftest: st('reproduced', release), policy: policy({ overrides: [ov('/var/lib/libvirt/images', 'disable')] }) }));
    assert.equal(d.verdict, 'affected');
    assert.equal(d.confidence, 'proven');
    assert.equal(d.enable_workaround, false);
  });
  test('longest matching prefix wins, on path-component boundaries', () => {
    const overrides = [ov('/var', 'enable'), ov('/var/lib/libvirt/images', 'disable'), ov('/var/lib/libvirt', 'enable'), ov('/var/lib/libvirt/images2', 'enable')];
    const d = decide(input({ release: K.fixed, policy: policy({ overrides }) }));
    assert.equal(d.policy.override?.prefix, '/var/lib/libvirt/images');
    assert.equal(d.enable_workaround, false);
    // /var/lib/libvirt/images2 must not match /var/lib/libvirt/images/...; /var/lib/libvirt/imag must not match either
    const fs = fsFacts('xfs', { requested_path: '/var/lib/libvirt/images2/vm.qcow2', judged_directory: '/var/lib/libvirt/images2' });
    const d2 = decide(input({ release: K.fixed, filesystem: fs, policy: policy({ overrides: [ov('/var/lib/libvirt/images', 'disable'), ov('/var/lib/libvirt/imag', 'disable')] }) }));
    assert.equal(d2.policy.override, null);
    const d3 = decide(input({ release: K.fixed, filesystem: fs, policy: policy({ overrides }) }));
    assert.equal(d3.policy.override?.prefix, '/var/lib/libvirt/images2');
  });
  test('no override: policy.override is null, source reported', () => {
    const d = decide(input());
    assert.equal(d.policy.override, null);
    assert.equal(d.policy.source, 'built-in defaults');
    assert.equal(d.policy.mode, 'conservative');
  });
});

describe('mitigations and exit codes', () => {
  test('affected XFS lists the five mitigations', () => {
    const d = decide(input({ release: K.affected }));
    assert.deepEqual(
      d.mitigations.map((m) => m.code).sort(),
      ['place_on_non_xfs', 'qemu_serialises_post_eof_zeroes', 'upgrade_kernel', 'use_aio_threads', 'use_cache_writeback'].sort(),
    );
    assert.match(d.mitigations.find((m) => m.code === 'qemu_serialises_post_eof_zeroes')!.detail, /4\.1\.1.*4\.2\.0/);
    assert.match(d.mitigations.find((m) => m.code === 'upgrade_kernel')!.detail, /5\.5.*5\.4\.69/);
  });
  test('C1: a below-range reproduction drops QEMU\'s serialisation from the sufficient mitigations', () => {
    const release = K.fixed;
    const below = (o: 'reproduced' | 'not_reproduced' | null, outcome: 'reproduced' | 'not_reproduced' = 'reproduced') =>
      selftest(outcome, { below_range_outcome: o }, release);
    const d = decide(input({ release, selftest: below('reproduced') }));
    assert.equal(d.verdict, 'affected');
    assert.deepEqual(d.mitigations.map((m) => m.code).sort(), ['upgrade_kernel', 'use_aio_threads', 'use_cache_writeback']);
    assert.ok(codes(d).includes('selftest_below_range_reproduced'));
    // only the main cases reproduced: QEMU's serialisation still counts
    const main = decide(input({ release, selftest: below('not_reproduced') }));
    assert.ok(main.mitigations.some((m) => m.code === 'qemu_serialises_post_eof_zeroes'));
    assert.ok(!codes(main).includes('selftest_below_range_reproduced'));
    // the below-range case alone is a reproduction too: never a clean self-test
    const onlyBelow = decide(input({ release, selftest: below('reproduced', 'not_reproduced') }));
    assert.equal(onlyBelow.verdict, 'affected');
    assert.ok(!onlyBelow.mitigations.some((m) => m.code === 'qemu_serialises_post_eof_zeroes'));
  });
  test('a self-test whose device timed out: unknown, says so, the tables are not asked instead', () => {
    const release = K.fixed;
    const ev = selftest('unsupported', { timeout: { deadline_ms: 5000, message: 'device did not respond' } }, release);
    const d = decide(input({ release, selftest: ev }));
    assert.equal(d.verdict, 'unknown');
    assert.equal(d.enable_workaround, true);
    assert.ok(codes(d).includes('selftest_timed_out'));
  });
  test('exitCodeFor', () => {
    assert.equal(exitCodeFor({ enable_workaround: false, verdict: 'affected' }), 0);
    assert.equal(exitCodeFor({ enable_workaround: true, verdict: 'affected' }), 10);
    assert.equal(exitCodeFor({ enable_workaround: true, verdict: 'unknown' }), 11);
    assert.equal(exitCodeFor({ enable_workaround: true, verdict: 'not_affected' }), 11);
    assert.equal(exitCodeFor({ enable_workaround: false, verdict: 'fixed' }), 0);
  });
  test('decide is pure: same input, same output; input not mutated', () => {
    const i = input({ release: K.unknown, selftest: st('not_reproduced', K.unknown) });
    const before = JSON.stringify(i);
    assert.deepEqual(decide(i), decide(i));
    assert.equal(JSON.stringify(i), before);
  });
  test('the decision is JSON-serialisable and round-trips', () => {
    const d = decide(input({ release: K.affected, selftest: st('not_reproduced', K.affected) }));
    assert.deepEqual(JSON.parse(JSON.stringify(d)), d);
  });
});

describe('explain', () => {
  test('renderExplanation walks the evidence chain', () => {
    const release = K.custom_fixed;
    const d = decide(input({ release, selftest: st('reproduced', release), policy: policy({ overrides: [{ prefix: '/var/lib', action: 'enable', reason: 'belt and braces' }] }) }));
    const text = renderExplanation(d);
    const order = ['Filesystem:', 'Kernel:', 'Self-test:', 'I/O mode:', 'Policy:', 'Verdict:', 'Mitigations:', 'knowledge base revision'];
    let at = -1;
    for (const h of order) {
      const i = text.indexOf(h);
      assert.ok(i > at, `${h} missing or out of order`);
      at = i;
    }
    assert.match(text, /stream custom, upstream 6\.1\.192/);
    assert.match(text, /rule custom-upstream-base-5\.5/);
    assert.match(text, /selftest_reproduced/);
    assert.match(text, /belt and braces/);
    assert.ok(text.includes(KNOWLEDGE_BASE_DATA.revision), 'knowledge base revision');
  });
  test('renderSummary is 2–4 lines and names the verdict and the knowledge base revision', () => {
    for (const d of [
      decide(input({ release: K.affected })),
      decide(input({ release: K.fixed })),
      decide(input({ filesystem: fsFacts('nfs') })),
      decide(input({ release: K.custom_fixed, selftest: st('reproduced', K.custom_fixed) })),
    ]) {
      const s = renderSummary(d);
      const n = s.split('\n').length;
      assert.ok(n >= 2 && n <= 4, s);
      assert.match(s, new RegExp(d.provenance.knowledge_base_revision.replace('.', '\\.')));
      assert.match(s, d.enable_workaround ? /NEEDED/ : /not needed/);
    }
  });
});
