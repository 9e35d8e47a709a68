import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kernelStatus, parseKernelRelease, type KernelStatusValue, type KernelStream, type ParseOptions } from '../policies/kernel-release.js';
import { XFS_FALLOCATE_BUG_ID } from '../policies/knowledge-base.js';
import { KB } from './policies-fixtures.js';

const BUG = XFS_FALLOCATE_BUG_ID;

describe('parseKernelRelease: the cases named in the issue', () => {
  const cases: [string, ParseOptions, Partial<ReturnType<typeof parseKernelRelease>>][] = [
    [
      '5.4.0-42-generic',
      { signature: 'Ubuntu 5.4.0-42.46-generic 5.4.44' },
      { stream: 'ubuntu', upstream: { major: 5, minor: 4, patch: 44 }, upstream_string: '5.4.44', distro_release: '42', package_version: '5.4.0-42.46', flavour: 'generic', upstream_exact: true },
    ],
    [
      '5.4.0-42-generic',
      {},
      { stream: 'ubuntu', upstream_string: '5.4.0', distro_release: '42', package_version: null, flavour: 'generic', upstream_exact: false },
    ],
    [
      '5.4.0-42-generic',
      { version: '#46-Ubuntu SMP Fri Jul 10 00:24:02 UTC 2020' },
      { stream: 'ubuntu', package_version: '5.4.0-42.46', upstream_exact: false },
    ],
    [
      '4.18.0-193.28.1.el8_2.x86_64',
      {},
      { stream: 'el8', upstream: { major: 4, minor: 18, patch: 0 }, distro_release: '193.28.1.el8_2', arch: 'x86_64', flavour: 'x86_64', rc: null },
    ],
    ['3.10.0-1160.el7.x86_64', {}, { stream: 'el7', upstream_string: '3.10.0', distro_release: '1160.el7', arch: 'x86_64' }],
    ['6.1.0-18-amd64', {}, { stream: 'debian', upstream_string: '6.1.0', distro_release: '18', flavour: 'amd64', arch: 'x86_64', upstream_exact: false }],
    [
      '6.1.0-18-amd64',
      { version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)' },
      { stream: 'debian', upstream_string: '6.1.76', package_version: '6.1.76-1', upstream_exact: true },
    ],
    ['5.14.0-70.13.1.el9_0', {}, { stream: 'el9', upstream_string: '5.14.0', distro_release: '70.13.1.el9_0', arch: null }],
    ['5.4.69-1.el7.elrepo.x86_64', {}, { stream: 'elrepo', upstream_string: '5.4.69', distro_release: '1.el7.elrepo', arch: 'x86_64' }],
    ['5.5.0-rc1', {}, { stream: 'mainline', upstream_string: '5.5.0-rc1', rc: 1, upstream: { major: 5, minor: 5, patch: 0 } }],
    ['6.18.44-fc-v657', {}, { stream: 'custom', upstream_string: '6.18.44', distro_release: 'fc-v657' }],
    ['4.12.14-122.37-default', {}, { stream: 'suse', upstream_string: '4.12.14', distro_release: '122.37', flavour: 'default' }],
    ['5.3.18-150300.59.93-default', {}, { stream: 'suse', distro_release: '150300.59.93', flavour: 'default' }],
    ['4.19.0-0.bpo.9-amd64', {}, { stream: 'debian', upstream_string: '4.19.0', distro_release: '0.bpo.9', flavour: 'amd64' }],
    [
      '4.19.0-0.bpo.9-amd64',
      { version: '#1 SMP Debian 4.19.118-2~bpo9+1 (2020-06-09)' },
      { stream: 'debian', upstream_string: '4.19.118', package_version: '4.19.118-2~bpo9+1' },
    ],
    ['6.1.192-xfsrace', {}, { stream: 'custom', upstream_string: '6.1.192', distro_release: 'xfsrace' }],
    ['6.1.192', {}, { stream: 'stable', upstream_string: '6.1.192', distro_release: null, flavour: null }],
    ['5.4.0-100-generic', {}, { stream: 'ubuntu', distro_release: '100', flavour: 'generic' }],
    ['6.12.38+deb13-amd64', {}, { stream: 'debian', upstream_string: '6.12.38', flavour: 'amd64' }],
    ['4.18.0-193.el8.x86_64+debug', {}, { stream: 'el8', arch: 'x86_64', flavour: 'x86_64+debug', distro_release: '193.el8' }],
    ['5.4.17-2136.300.7.el8uek.x86_64', {}, { stream: 'custom' }],
    ['6.5.6-300.fc39.x86_64', {}, { stream: 'fedora', distro_release: '300.fc39', arch: 'x86_64' }],
    ['not-a-kernel', {}, { stream: 'unknown', upstream: null, upstream_string: null }],
  ];
  for (const [release, opts, want] of cases) {
    test(`${release}${opts.signature ? ' + version_signature' : ''}${opts.version ? ' + uname -v' : ''}`, () => {
      const p = parseKernelRelease(release, opts);
      assert.equal(p.release, release);
      for (const [k, v] of Object.entries(want)) {
        assert.deepEqual(p[k as keyof typeof p], v, `${release}: ${k}`);
      }
    });
  }
});

type Row = [release: string, opts: ParseOptions, stream: KernelStream, status: KernelStatusValue, rule?: string];

const SIG = (pkg: string, flavour: string, up: string): ParseOptions => ({ signature: `Ubuntu ${pkg}-${flavour} ${up}` });
const DEB = (pkg: string): ParseOptions => ({ version: `#1 SMP PREEMPT_DYNAMIC Debian ${pkg} (2024-02-01)` });

// Real release strings across streams, with the status the knowledge base gives them.
const KERNELS: Row[] = [
  // RHEL 7 and rebuilds (distro-fixes.md): fixed in 7.9 (3.10.0-1160); no race window before 3.10.0-257
  ['3.10.0-1160.el7.x86_64', {}, 'el7', 'fixed', 'el7-fixed-from-1160'],
  ['3.10.0-1160.119.1.el7.x86_64', {}, 'el7', 'fixed'],
  ['3.10.0-693.el7.x86_64', {}, 'el7', 'affected'],
  ['3.10.0-693.1.1.el7.x86_64', {}, 'el7', 'affected'],
  ['3.10.0-327.el7.x86_64', {}, 'el7', 'affected'],
  ['3.10.0-123.el7.x86_64', {}, 'el7', 'not_present', 'el7-before-appending-aio'],
  ['3.10.0-957.27.2.el7.ppc64le', {}, 'el7', 'affected'],
  // RHEL 8 (distro-fixes.md): fixed from 4.18.0-165.el8
  ['4.18.0-193.28.1.el8_2.x86_64', {}, 'el8', 'fixed', 'el8-fixed-from-165'],
  ['4.18.0-80.el8.x86_64', {}, 'el8', 'affected', 'el8-fixed-from-165'],
  ['4.18.0-240.el8.x86_64', {}, 'el8', 'fixed'],
  ['4.18.0-553.el8_10.x86_64', {}, 'el8', 'fixed'],
  ['4.18.0-553.157.1.el8_10.x86_64', {}, 'el8', 'fixed'],
  ['4.18.0-372.9.1.rt7.166.el8.x86_64', {}, 'el8', 'fixed'],
  ['4.18.0-305.el8.aarch64', {}, 'el8', 'fixed'],
  ['4.18.0-193.el8.x86_64+debug', {}, 'el8', 'fixed'],
  // RHEL 9/10: upstream base ≥ 5.5
  ['5.14.0-70.13.1.el9_0', {}, 'el9', 'fixed', 'el9-el10-upstream-base'],
  ['5.14.0-427.13.1.el9_4.x86_64', {}, 'el9', 'fixed'],
  ['5.14.0-503.11.1.el9_5.aarch64', {}, 'el9', 'fixed'],
  ['6.12.0-55.9.1.el10_0.x86_64', {}, 'el10', 'fixed'],
  // elrepo kernel-lt / kernel-ml: vanilla
  ['5.4.69-1.el7.elrepo.x86_64', {}, 'elrepo', 'fixed', 'vanilla-based-5.4.y'],
  ['5.4.68-1.el7.elrepo.x86_64', {}, 'elrepo', 'affected', 'vanilla-based-5.4.y'],
  ['4.19.113-1.el7.elrepo.x86_64', {}, 'elrepo', 'affected', 'vanilla-based-3.15-to-5.3-no-fix'],
  ['6.6.8-1.el8.elrepo.x86_64', {}, 'elrepo', 'fixed'],
  ['4.4.246-1.el7.elrepo.x86_64', {}, 'elrepo', 'affected'],
  // Oracle UEK: its own line ⇒ custom; 5.4-based ⇒ unknown
  ['5.4.17-2136.300.7.el8uek.x86_64', {}, 'custom', 'unknown', 'custom-before-5.5-unknown'],
  // Fedora
  ['6.5.6-300.fc39.x86_64', {}, 'fedora', 'fixed', 'vanilla-based-5.5'],
  ['5.3.7-301.fc31.x86_64', {}, 'fedora', 'affected'],
  ['5.4.10-200.fc31.x86_64', {}, 'fedora', 'affected', 'vanilla-based-5.4.y'],
  // Ubuntu: focal 5.4 needs the version signature for the upstream base
  // focal master (distro-fixes.md): fixed from ABI 55, read from the release or, when present, the package version
  ['5.4.0-42-generic', {}, 'ubuntu', 'affected', 'ubuntu-focal-master-abi-55'],
  ['5.4.0-42-generic', SIG('5.4.0-42.46', 'generic', '5.4.44'), 'ubuntu', 'affected', 'ubuntu-5.4-signature-base-before-5.4.69'],
  ['5.4.0-100-generic', SIG('5.4.0-100.113', 'generic', '5.4.166'), 'ubuntu', 'fixed', 'ubuntu-focal-master-abi-55'],
  ['5.4.0-100-generic', {}, 'ubuntu', 'fixed', 'ubuntu-focal-master-abi-55'],
  ['5.4.0-1036-azure', {}, 'ubuntu', 'unknown'],
  ['5.4.0-48-generic', SIG('5.4.0-48.52', 'generic', '5.4.60'), 'ubuntu', 'affected'],
  ['4.15.0-213-generic', {}, 'ubuntu', 'affected', 'ubuntu-3.15-to-5.3-no-fix'],
  ['4.15.0-20-generic', {}, 'ubuntu', 'affected'],
  ['4.4.0-210-generic', {}, 'ubuntu', 'affected'],
  ['3.13.0-170-generic', {}, 'ubuntu', 'unknown', 'no_rule'],
  ['5.8.0-63-generic', {}, 'ubuntu', 'fixed', 'ubuntu-upstream-base-5.5'],
  ['5.15.0-91-generic', {}, 'ubuntu', 'fixed'],
  ['5.15.0-91-generic', SIG('5.15.0-91.101~20.04.1', 'generic', '5.15.131'), 'ubuntu', 'fixed'],
  ['5.15.0-1051-aws', {}, 'ubuntu', 'fixed'],
  ['6.8.0-45-generic', {}, 'ubuntu', 'fixed'],
  ['6.8.0-1015-raspi', {}, 'ubuntu', 'fixed'],
  // Debian (incl. backports)
  ['6.1.0-18-amd64', {}, 'debian', 'fixed', 'debian-upstream-base-5.5'],
  ['6.1.0-18-amd64', DEB('6.1.76-1'), 'debian', 'fixed'],
  ['6.1.0-30-cloud-amd64', {}, 'debian', 'fixed'],
  ['6.1.0-18-arm64', {}, 'debian', 'fixed'],
  ['5.10.0-28-amd64', DEB('5.10.209-2'), 'debian', 'fixed'],
  ['5.10.0-0.deb10.16-amd64', {}, 'debian', 'fixed'],
  ['6.12.38+deb13-amd64', DEB('6.12.38-1'), 'debian', 'fixed'],
  ['4.19.0-27-amd64', DEB('4.19.316-1'), 'debian', 'affected', 'debian-3.15-to-5.3-no-fix'],
  ['4.19.0-0.bpo.9-amd64', DEB('4.19.118-2~bpo9+1'), 'debian', 'affected'],
  ['4.19.0-0.bpo.9-amd64', {}, 'debian', 'affected'],
  // Debian 5.4.y (buster-backports style): the patch level comes from uname -v only
  ['5.4.0-0.bpo.4-amd64', DEB('5.4.19-1~bpo10+1'), 'debian', 'affected', 'debian-5.4.y'],
  ['5.4.0-0.bpo.4-amd64', DEB('5.4.69-1~bpo10+1'), 'debian', 'fixed', 'debian-5.4.y'],
  ['5.4.0-0.bpo.4-amd64', {}, 'debian', 'unknown', 'debian-5.4.y'],
  ['4.9.0-19-amd64', {}, 'debian', 'affected'],
  ['3.16.0-11-amd64', {}, 'debian', 'affected'],
  // SUSE: patched somewhere (bsc#1158751), branch unknown ⇒ unknown below 5.5
  ['4.12.14-122.37-default', {}, 'suse', 'unknown', 'suse-before-5.5-unknown'],
  ['4.12.14-197.89-default', {}, 'suse', 'unknown'],
  ['5.3.18-150300.59.93-default', {}, 'suse', 'unknown'],
  ['5.3.18-24.107-default', {}, 'suse', 'unknown'],
  ['5.14.21-150500.55.44-default', {}, 'suse', 'fixed', 'suse-upstream-base-5.5'],
  ['6.7.2-1-default', {}, 'suse', 'fixed'],
  // kernel.org mainline and stable
  ['5.5.0-rc1', {}, 'mainline', 'fixed', 'upstream-mainline-5.5'],
  ['5.5-rc1', {}, 'mainline', 'fixed', 'upstream-mainline-5.5'],
  ['5.5.0', {}, 'mainline', 'fixed'],
  ['5.4.0-rc3', {}, 'mainline', 'affected', 'upstream-5.4.y'],
  ['5.4.0', {}, 'mainline', 'affected', 'upstream-5.4.y'],
  ['5.4.68', {}, 'stable', 'affected', 'upstream-5.4.y'],
  ['5.4.69', {}, 'stable', 'fixed', 'upstream-5.4.y'],
  ['5.4.76', {}, 'stable', 'fixed'],
  ['5.4.290', {}, 'stable', 'fixed'],
  ['4.19.325', {}, 'stable', 'affected', 'upstream-3.15-to-5.3-no-fix'],
  ['4.14.336', {}, 'stable', 'affected'],
  ['5.3.18', {}, 'stable', 'affected'],
  ['3.15.0', {}, 'mainline', 'affected'],
  ['3.14.79', {}, 'stable', 'not_present', 'upstream-before-3.15'],
  ['3.14.0-rc5', {}, 'mainline', 'not_present'],
  ['3.15.0-rc1', {}, 'mainline', 'affected'],
  ['6.1.192', {}, 'stable', 'fixed'],
  ['6.18.44', {}, 'stable', 'fixed'],
  // custom builds: upstream ≥ 5.5 ⇒ fixed by version only (belief); below ⇒ unknown
  ['6.18.44-fc-v657', {}, 'custom', 'fixed', 'custom-upstream-base-5.5'],
  ['6.1.192-xfsrace', {}, 'custom', 'fixed', 'custom-upstream-base-5.5'],
  ['5.10.210-201.852.amzn2.x86_64', {}, 'custom', 'fixed'],
  ['6.8.12-4-pve', {}, 'custom', 'fixed'],
  ['6.1.21-v8+', {}, 'custom', 'fixed'],
  ['5.6.0-rc2-next-20200220', {}, 'custom', 'fixed'],
  ['5.4.80-custom', {}, 'custom', 'unknown', 'custom-before-5.5-unknown'],
  ['4.19.0-xfsrace', {}, 'custom', 'unknown'],
  ['4.14.336-257.562.amzn2.x86_64', {}, 'custom', 'unknown'],
  // every release named in issue 10 and in distro-fixes.md, with the verdict the sources give
  ['4.18.0-165.el8.x86_64', {}, 'el8', 'fixed', 'el8-fixed-from-165'],
  ['4.18.0-164.el8.x86_64', {}, 'el8', 'affected', 'el8-fixed-from-165'],
  ['4.18.0-193.el8.x86_64', {}, 'el8', 'fixed'],
  ['4.18.0-147.el8.x86_64', {}, 'el8', 'affected'],
  ['4.18.0-147.8.1.el8_1.x86_64', {}, 'el8', 'affected', 'el8-fixed-from-165'],
  ['4.18.0-147.94.1.el8_1.x86_64', {}, 'el8', 'unknown', 'el8-unchecked-8.1-z-streams'],
  ['4.18.0-147.3.1.el8_1.x86_64', {}, 'el8', 'affected'],
  ['3.10.0-1160.el7', {}, 'el7', 'fixed', 'el7-fixed-from-1160'],
  ['3.10.0-1160.rt56.1131.el7.x86_64', {}, 'el7', 'fixed'],
  ['3.10.0-1127.el7.x86_64', {}, 'el7', 'affected', 'el7-fixed-from-1160'],
  ['3.10.0-1127.19.1.el7.x86_64', {}, 'el7', 'unknown', 'el7-unpinned-1127z-to-1160'],
  ['3.10.0-1136.el7.x86_64', {}, 'el7', 'unknown', 'el7-unpinned-1127z-to-1160'],
  ['3.10.0-514.26.2.el7.x86_64', {}, 'el7', 'affected'],
  ['3.10.0-445.el7.x86_64', {}, 'el7', 'affected'],
  ['3.10.0-257.el7.x86_64', {}, 'el7', 'affected', 'el7-fixed-from-1160'],
  ['3.10.0-256.el7.x86_64', {}, 'el7', 'not_present', 'el7-before-appending-aio'],
  ['3.10.0-229.el7.x86_64', {}, 'el7', 'not_present'],
  ['3.10.0-229.20.1.el7.x86_64', {}, 'el7', 'not_present'],
  ['5.4.0-55-generic', {}, 'ubuntu', 'fixed', 'ubuntu-focal-master-abi-55'],
  ['5.4.0-54-generic', {}, 'ubuntu', 'affected', 'ubuntu-focal-master-abi-55'],
  ['5.4.0-55-lowlatency', {}, 'ubuntu', 'fixed'],
  ['5.4.0-55-generic', SIG('5.4.0-55.61', 'generic', '5.4.73'), 'ubuntu', 'fixed', 'ubuntu-focal-master-abi-55'],
  ['5.4.0-54-generic', SIG('5.4.0-54.60', 'generic', '5.4.65'), 'ubuntu', 'affected', 'ubuntu-5.4-signature-base-before-5.4.69'],
  ['5.4.0-55-generic', SIG('5.4.0-55.61~18.04.1', 'generic', '5.4.73'), 'ubuntu', 'fixed', 'ubuntu-focal-master-abi-55'],
  ['5.4.0-1030-aws', {}, 'ubuntu', 'fixed', 'ubuntu-focal-aws-abi-1030'],
  ['5.4.0-1029-aws', {}, 'ubuntu', 'affected', 'ubuntu-focal-aws-abi-1030'],
  ['5.4.0-1030-aws', SIG('5.4.0-1030.31', 'aws', '5.4.73'), 'ubuntu', 'fixed', 'ubuntu-focal-aws-abi-1030'],
  ['5.4.0-1030-gcp', {}, 'ubuntu', 'unknown', 'ubuntu-5.4-derivative-unknown'],
  ['5.4.0-1055-kvm', {}, 'ubuntu', 'unknown', 'ubuntu-5.4-derivative-unknown'],
  ['5.4.0-1036-azure', SIG('5.4.0-1036.38', 'azure', '5.4.78'), 'ubuntu', 'unknown', 'ubuntu-5.4-derivative-unknown'],
  ['4.15.0-42-generic', {}, 'ubuntu', 'affected'],
  ['5.3.0-64-generic', {}, 'ubuntu', 'affected'],
  ['5.4.69-050469-generic', {}, 'custom', 'fixed', 'patch-level-vendor-5.4.y'],
  ['5.4.68-050468-generic', {}, 'custom', 'affected', 'patch-level-vendor-5.4.y'],
  ['5.4.203-0504203-generic', {}, 'custom', 'fixed', 'patch-level-vendor-5.4.y'],
  ['5.5.0-050500rc1-generic', {}, 'custom', 'fixed', 'patch-level-vendor-5.5'],
  ['4.19.100-0419100-generic', {}, 'custom', 'affected', 'mainline-ppa-3.15-to-5.3-no-fix'],
  ['5.4.203-1-pve', {}, 'custom', 'fixed', 'patch-level-vendor-5.4.y'],
  ['5.4.65-1-pve', {}, 'custom', 'affected', 'patch-level-vendor-5.4.y'],
  ['5.4.72-1-lts', {}, 'custom', 'fixed', 'patch-level-vendor-5.4.y'],
  ['5.4.68-1-lts', {}, 'custom', 'affected'],
  ['5.4.285-195.380.amzn2.x86_64', {}, 'custom', 'fixed', 'patch-level-vendor-5.4.y'],
  ['5.4.58-32.125.amzn2.x86_64', {}, 'custom', 'affected', 'patch-level-vendor-5.4.y'],
  ['5.4.109-26094-g381754fbb154', {}, 'custom', 'fixed', 'patch-level-vendor-5.4.y'],
  ['5.4.17-2011.1.2.el8uek.x86_64', {}, 'custom', 'unknown', 'custom-before-5.5-unknown'],
  ['4.14.35-1902.300.11.el7uek.x86_64', {}, 'custom', 'unknown', 'custom-before-5.5-unknown'],
  ['4.14.320-242.534.amzn2.x86_64', {}, 'custom', 'unknown', 'custom-before-5.5-unknown'],
  ['5.3.18-22-default', {}, 'suse', 'unknown', 'suse-before-5.5-unknown'],
  ['4.19.222', {}, 'stable', 'affected', 'upstream-3.15-to-5.3-no-fix'],
  ['4.9.337', {}, 'stable', 'affected'],
  ['4.4.302', {}, 'stable', 'affected'],
  ['5.4.75', {}, 'stable', 'fixed', 'upstream-5.4.y'],
  // unparsable
  ['garbage', {}, 'unknown', 'unknown', 'no_rule'],
  ['', {}, 'unknown', 'unknown', 'no_rule'],
];

describe('kernelStatus over real release strings', () => {
  test('covers at least 60 release strings', () => {
    assert.ok(new Set(KERNELS.map((k) => k[0])).size >= 60, `only ${new Set(KERNELS.map((k) => k[0])).size}`);
  });
  for (const [release, opts, stream, status, rule] of KERNELS) {
    const label = `${release || '(empty)'}${opts.signature ? ' [sig]' : ''}${opts.version ? ' [uname -v]' : ''} → ${stream} ${status}`;
    test(label, () => {
      const p = parseKernelRelease(release, opts);
      assert.equal(p.stream, stream, 'stream');
      const s = kernelStatus(p, KB, BUG);
      assert.equal(s.status, status, `status (rule ${s.rule}: ${s.rule_detail}; ${s.comparison ?? ''})`);
      if (rule !== undefined) assert.equal(s.rule, rule, 'rule');
      assert.ok(s.source.length > 0, 'source');
      assert.match(s.confidence, /^(verified|inferred|belief)$/);
    });
  }
});

describe('kernelStatus: confidence and explanations', () => {
  const st = (r: string, o: ParseOptions = {}) => kernelStatus(parseKernelRelease(r, o), KB, BUG);
  test('mainline fix is verified; 4.19 no-fix is inferred; el7 7.9 is verified; custom is belief', () => {
    assert.equal(st('5.5.0').confidence, 'verified');
    assert.equal(st('5.4.69').confidence, 'verified');
    assert.equal(st('4.19.325').confidence, 'inferred');
    assert.equal(st('3.10.0-1160.el7.x86_64').confidence, 'verified');
    assert.equal(st('3.10.0-123.el7.x86_64').confidence, 'inferred');
    assert.equal(st('6.18.44-fc-v657').confidence, 'belief');
    // bug.md §7.9 gives the 3.15 boundary as [M]: not_present below it is belief, never inferred/verified
    assert.equal(st('3.14.79').confidence, 'belief');
    assert.equal(st('3.14.0-rc5').confidence, 'belief');
  });
  test('vanilla-based (elrepo, fedora) rules are one notch below the upstream ones', () => {
    assert.equal(st('5.5.0').confidence, 'verified');
    assert.equal(st('6.6.8-1.el8.elrepo.x86_64').confidence, 'inferred');
    assert.equal(st('5.4.69').confidence, 'verified');
    assert.equal(st('5.4.69-1.el7.elrepo.x86_64').confidence, 'inferred');
    assert.equal(st('4.19.325').confidence, 'inferred');
    assert.equal(st('4.19.113-1.el7.elrepo.x86_64').confidence, 'belief');
    assert.equal(st('5.3.7-301.fc31.x86_64').confidence, 'belief');
  });
  test('fixed_from records the comparison', () => {
    assert.equal(st('5.4.68').comparison, '5.4.68 < 5.4.69 (upstream)');
    assert.equal(st('5.4.69').comparison, '5.4.69 = 5.4.69 (upstream)');
  });
  test('Ubuntu 5.4 master without version signature: judged by the ABI in the release, says how', () => {
    const s = st('5.4.0-42-generic');
    assert.equal(s.status, 'affected');
    assert.equal(s.comparison, '42 < 55 (abi)');
    assert.equal(st('5.4.0-55-generic').comparison, '55 = 55 (abi)');
  });
  test('Ubuntu 5.4 with version signature: the ABI comes from the package version', () => {
    assert.equal(st('5.4.0-55-generic', SIG('5.4.0-55.61', 'generic', '5.4.73')).comparison, '55 = 55 (abi)');
  });
  test('the ABI number is not the package version: 5.4.0-100 with an old signature stays affected', () => {
    assert.equal(st('5.4.0-100-generic', SIG('5.4.0-100.113', 'generic', '5.4.60')).status, 'affected');
  });
  test('unknown bug id throws', () => {
    assert.throws(() => kernelStatus(parseKernelRelease('5.5.0'), KB, 'no-such-bug'), /no bug/);
  });
});

describe('kernelStatus with rpm and dpkg comparators (synthetic knowledge base)', () => {
  // When someone finds the RHEL 8 fix build, an el8 rule with comparator rpm is what gets added.
  const kb = structuredClone(KB);
  const bug = kb.bugs[0]!;
  const src = [{ ref: 'test', confidence: 'verified' as const }];
  bug.streams = [
    { key: 'el8-test', streams: ['el8'], status: 'fixed_from', comparator: 'rpm', first_fixed: '4.18.0-240.el8', confidence: 'verified', detail: 't', sources: src },
    { key: 'deb-test', streams: ['debian'], status: 'fixed_from', comparator: 'dpkg', first_fixed: '4.19.146-1', confidence: 'verified', detail: 't', sources: src },
  ];
  const st = (r: string, o: ParseOptions = {}) => kernelStatus(parseKernelRelease(r, o), kb, bug.id).status;
  test('rpm: z-stream ordering', () => {
    assert.equal(st('4.18.0-193.28.1.el8_2.x86_64'), 'affected');
    assert.equal(st('4.18.0-240.el8.x86_64'), 'fixed');
    assert.equal(st('4.18.0-240.1.1.el8_3.x86_64'), 'fixed');
    assert.equal(st('4.18.0-553.157.1.el8_10.x86_64'), 'fixed');
  });
  test('dpkg: needs the package version', () => {
    assert.equal(st('4.19.0-0.bpo.9-amd64', DEB('4.19.118-2~bpo9+1')), 'affected');
    assert.equal(st('4.19.0-27-amd64', DEB('4.19.316-1')), 'fixed');
    assert.equal(st('4.19.0-27-amd64'), 'unknown');
  });
});
