// The knowledge base: which kernels carry which fix, with sources and how sure each statement is.
// Facts and tags come from /work/shared/reference/bug.md and distro-fixes.md ([V] → verified, [I] → inferred,
// [M] → belief); where distro-fixes.md refutes bug.md (RHEL 7 is fixed in 7.9), distro-fixes.md wins
// (policies/README.md lists the corrections).
// Where nothing is known, a rule says `unknown` — never a guess.
//
// Rules are ordered; for a kernel, the first rule whose `streams` contain the kernel's stream and whose
// [upstream_from, upstream_below) range contains its upstream version decides (see kernelStatus()).
//
// The table is trusted as data at run time (zod's import would cost `check` most of a node start-up,
// issue 11): test/policies-knowledge-base.test.ts validates it against KnowledgeBaseSchema, and files
// from elsewhere go through knowledge-base-validate.ts.
import type { KnowledgeBase, KnowledgeBaseInput } from './knowledge-base-schema.js';

export { KnowledgeBaseError } from './knowledge-base-error.js';
export type { KnowledgeBase } from './knowledge-base-schema.js';

export const KNOWLEDGE_BASE_FILE = 'policies/knowledge-base.ts';
export const XFS_FALLOCATE_BUG_ID = 'xfs-fallocate-aio-dio-size-race';

const SRC = {
  suse_patch: {
    ref: 'openSUSE/kernel-source patches.suse/xfs-properly-serialise-fallocate-against-AIO-DIO.patch (Patch-mainline: v5.5-rc1, References: bsc#1158751) — bug.md §1.1',
    confidence: 'verified',
  },
  xfs_merge_tag: {
    ref: 'https://linux.googlesource.com/fs/xfs/xfs-linux/+/refs/tags/xfs-5.5-merge-7 — bug.md §1.1',
    confidence: 'verified',
  },
  ksrc_61: {
    ref: "Debian linux-source-6.1 (6.1.192) fs/xfs/xfs_file.c:947 inode_dio_wait() right after xfs_break_layouts() — bug.md §1.3",
    confidence: 'verified',
  },
  stable_5469: {
    ref: 'AUTOSEL 5.4 023/330 <20200918020110.2063155-23-sashal@kernel.org>; "Linux 5.4.69" announcement 2020-10-01 (stable commit 36f11775da75) — bug.md §2',
    confidence: 'verified',
  },
  stable_5476: {
    ref: '"xfs: flush for older, xfs specific ioctls" <20201105202850.20216-1-astroh@amazon.com>, [PATCH 5.4 83/85] in 5.4.76-rc1 — bug.md §2',
    confidence: 'verified',
  },
  no_backport_419: {
    ref: 'bug.md §2/§8: no 4.19.y/4.14.y/4.9.y/4.4.y stable mail or announcement carries the fix (the only AUTOSEL mail targets 5.4); distro-fixes.md: 4.19.222 source (zhaozhi0810/linux-4.19.222-gec210 @40c53f3e7) has no drain before new_size [V]',
    confidence: 'inferred',
  },
  introduced_315: {
    ref: 'bug.md §7.9 [I/M]: "xfs: allow appending aio writes" (Christoph Hellwig, branch xfs-async-aio-extend merged 2014-02-20 ⇒ 3.15 [M]); before it generic DIO made extending AIO writes synchronous',
    // the 3.15 boundary itself is from memory ([M]) in bug.md, so anything resting on it is belief
    confidence: 'belief',
  },
  rhel7_code: {
    ref: 'halfline/rhel7 fs/xfs/xfs_file.c (3.10.0-445 dev build, RHEL 7.3 era, commit db74220e5c06): new_size sampled before any DIO drain; DIO_ASYNC_EXTEND — bug.md §3',
    confidence: 'verified',
  },
  rhel7_1160: {
    ref: 'distro-fixes.md RHEL 7: tremb1e/linux-3.10.0-1160.el7 commit de8b6b6f (unmodified 1160 source): xfs_file_fallocate has "Must wait for all AIO to complete…" and inode_dio_wait() after xfs_break_layouts(); 7.8 (jiho-dev/linux-3.10.0-1127 @5b91672a) and 3.10.0-514.26.2 (MafSam/centos tag imports/c7/kernel-3.10.0-514.26.2.el7) lack it',
    confidence: 'verified',
  },
  rhel7_unpinned: {
    ref: 'distro-fixes.md RHEL 7: "Not pinned: the first build between 1128 and 1160; whether 7.8 z-streams (1127.x) got it"',
    confidence: 'verified',
  },
  rhel7_257: {
    ref: 'distro-fixes.md RHEL 7: c7 kernel.spec changelog "[3.10.0-257.el7] - [fs] xfs: allow appending aio writes (Eric Sandeen) [1053615]" [V]; before 257 an extending AIO+DIO write on XFS completed synchronously [I]',
    confidence: 'inferred',
  },
  rhel8_spec: {
    ref: 'distro-fixes.md RHEL 8: MafSam/centos tag imports/c8/kernel-4.18.0-193.el8 SPECS/kernel.spec, entry [4.18.0-165.el8] (Dec 12 2019) "- [fs] xfs: properly serialise fallocate against AIO+DIO (Eric Sandeen) [1765547]"; absent from imports/c8/kernel-4.18.0-147.8.1.el8_1; the 4.18.0-240 source (dongzhiyan-stack/linux-4.18.0-240.el8) has the early inode_dio_wait',
    confidence: 'verified',
    note: 'check on a host: rpm -q --changelog kernel | grep -i "serialise fallocate"',
  },
  rhel8_eus_unchecked: {
    ref: 'distro-fixes.md RHEL 8: "Not checked: 8.1 EUS z-streams after 147.8.1"',
    confidence: 'verified',
  },
  ubuntu_focal_55: {
    ref: 'distro-fixes.md Ubuntu: balabit-deps/balabit-os-8-linux @f02bfe143 debian.master/changelog, under linux (5.4.0-55.61): "Focal update: v5.4.69 upstream stable release (LP: #1900624)" → "- xfs: properly serialise fallocate against AIO+DIO"; 5.4.0-54.60 (stable base 5.4.60) is the last without it; bionic HWE 5.4 has the same ABI numbers',
    confidence: 'verified',
  },
  ubuntu_aws_1030: {
    ref: 'distro-fixes.md Ubuntu: balabit-deps/balabit-os-8-linux-aws @554e9d816 debian.aws/changelog: 5.4.0-1030.31 rebased on master 5.4.0-55.61',
    confidence: 'verified',
  },
  ubuntu_derivatives_unread: {
    ref: 'distro-fixes.md Ubuntu: "Other derivatives (azure, gcp, oracle, kvm…): not read; their ABI numbers are their own"',
    confidence: 'verified',
  },
  mainline_ppa: {
    ref: 'distro-fixes.md Ubuntu: "Mainline PPA builds 5.4.N-0504NN-generic are vanilla 5.4.N: judge by N"',
    confidence: 'inferred',
  },
  patch_level_vendors: {
    ref: 'distro-fixes.md "Kernels that carry the real 5.4.y patch level in their release string": Proxmox 5.4.N-M-pve, Arch 5.4.N-M-lts, Amazon Linux 2 5.4.N-….amzn2, ChromeOS 5.4.N-… are 5.4.N stable plus their own patches: N ≥ 69 carries the fix as far as stable does [I]',
    confidence: 'inferred',
  },
  base_inherit: {
    ref: 'bug.md §2 "5.5+ (5.10, 5.15, 6.1 …) fixed from .0" [V ksrc-6.1]; a distro kernel rebased on an upstream ≥ 5.5 inherits the fix (inference: no distro is known to revert it)',
    confidence: 'inferred',
  },
  ubuntu_bionic: {
    ref: 'distro-fixes.md Ubuntu: bionic 4.15.0-42 source (balabit-deps/balabit-os-7-linux-monolithic @1db76b413) samples new_size before any drain [V]; no later backport found [I]; bug.md §3: no upstream stable line for 4.15',
    confidence: 'inferred',
  },
  debian_buster: {
    ref: 'bug.md §3: Debian buster (4.19) follows 4.19.y, where no backport was found ⇒ likely unfixed; bullseye (5.10) and later fixed',
    confidence: 'inferred',
  },
  suse_unknown_branch: {
    ref: 'bug.md §3: SUSE carries the mainline patch (bsc#1158751, Acked-by Anthony Iliopoulos); which SLE branch and maintenance update: not determined',
    confidence: 'verified',
  },
  vanilla: {
    ref: 'elrepo kernel-lt/kernel-ml and Fedora kernels are built from kernel.org stable sources (belief, not checked here), so the upstream table applies',
    confidence: 'belief',
  },
  io_modes: {
    ref: 'bug.md §7: XFS DIO drops IOLOCK_SHARED after async submission (xfs_file_dio_write_aligned); iomap_dio_rw waits for sync kiocbs; aio_prep_rw / io_uring set ki_complete ⇒ async; Max Reitz: fails only with cache.direct=on,aio=native <2bf96cbd-0836-bd48-a2fc-84f5a630939d@redhat.com>',
    confidence: 'inferred',
  },
  qemu_workaround: {
    ref: 'bug.md §4.2/§4.3: 292d06b925b2 "block/file-posix: Let post-EOF fallocate serialize" (QEMU 4.2.0), 7db05c8a73 in QEMU 4.1.1 (announce <157376786282.8295.5424159782656228513@sif>); still unconditional in current raw_do_pwrite_zeroes()',
    confidence: 'verified',
  },
  ext4_not_affected: {
    ref: 'bug.md §6j: ext4 only grows i_size in fallocate and performs extending DIO synchronously; Max Reitz: corruption on XFS only, not ext4/btrfs/tmpfs',
    confidence: 'inferred',
  },
  gluster: {
    ref: 'Nir Soffer on the QEMU RFC: "the fix may be needed to remote filesystem such as gluster over xfs" — anchors.md §0; QEMU v1 applies the workaround unconditionally "because we don\'t know those things for remote filesystems"',
    confidence: 'verified',
  },
} as const;

const UPSTREAM = ['mainline', 'stable'] as const;
/** Ubuntu's master kernel flavours (package linux; bionic HWE linux-hwe-5.4 shares its ABI numbers). */
const UBUNTU_MASTER_FLAVOURS = ['generic', 'generic-lpae', 'lowlatency'] as const;
const PATCH_LEVEL_VENDORS = ['ubuntu-mainline-ppa', 'proxmox', 'arch', 'amazon-linux-2', 'chromeos'] as const;
const VANILLA_BASED = ['elrepo', 'fedora'] as const;

/** The data. Validated by loadKnowledgeBase(); never used unvalidated. */
export const KNOWLEDGE_BASE_DATA = {
  format_version: 1,
  revision: '2026-12-05.1',
  bugs: [
    {
      id: XFS_FALLOCATE_BUG_ID,
      title: 'XFS fallocate() vs in-flight AIO+DIO size race (file truncated back to the fallocate end)',
      summary:
        'xfs_file_fallocate() sampled i_size before draining in-flight direct I/O; an appending async O_DIRECT write ' +
        'completing meanwhile extends the file, then fallocate sets the stale size — a truncation of the data just written. ' +
        "QEMU ≥ 4.1's qcow2 (c8bb23cbdbe32f, post-EOF write-zeroes) exposed it with aio=native.",
      fix: {
        commit: '249bd9087a5264d2b8a974081870e2e27671b4dc',
        title: 'xfs: properly serialise fallocate against AIO+DIO',
        mainline: '5.5.0-rc1',
        sources: [SRC.suse_patch, SRC.xfs_merge_tag],
      },
      filesystems: ['xfs'],
      io_modes: {
        exposed: ['native', 'io_uring'],
        not_exposed: ['threads', 'buffered'],
        detail:
          'Exposed: asynchronous, fs-block-aligned O_DIRECT writes that extend the file — Linux AIO (QEMU aio=native) and io_uring. ' +
          'Not exposed: synchronous O_DIRECT pwrite from a thread pool (QEMU aio=threads) and buffered I/O, which hold the iolock until the size is updated.',
        confidence: 'inferred',
        sources: [SRC.io_modes],
      },
      introduced: {
        upstream: '3.15.0-rc1',
        detail:
          'Appending AIO+DIO became asynchronous on XFS with "xfs: allow appending aio writes" (branch merged 2014-02-20, believed to be 3.15 — not verified); before that the race window did not exist upstream. ' +
          'Distribution kernels may have backported it earlier (RHEL 7 did in 3.10.0-257.el7), so "not present" applies to upstream streams only, and as a belief it never turns the workaround off.',
        confidence: 'belief',
        sources: [SRC.introduced_315, SRC.rhel7_code, SRC.rhel7_257],
      },
      streams: [
        // --- upstream kernel.org (mainline and stable/longterm) ---
        {
          key: 'upstream-before-3.15',
          streams: [...UPSTREAM],
          upstream_below: '3.15.0-rc1',
          status: 'not_present',
          confidence: 'belief',
          detail:
            'upstream < 3.15: appending AIO+DIO writes on XFS were synchronous, so the race window does not exist (the 3.15 boundary is from memory in bug.md, not verified)',
          sources: [SRC.introduced_315],
        },
        {
          key: 'upstream-mainline-5.5',
          streams: [...UPSTREAM],
          upstream_from: '5.5.0-rc1',
          status: 'fixed',
          first_fixed: '5.5.0-rc1',
          confidence: 'verified',
          detail: 'upstream ≥ 5.5 (v5.5-rc1) carries 249bd9087a52',
          sources: [SRC.suse_patch, SRC.xfs_merge_tag, SRC.ksrc_61],
        },
        {
          key: 'upstream-5.4.y',
          streams: [...UPSTREAM],
          upstream_from: '5.4.0-rc1',
          upstream_below: '5.5.0-rc1',
          status: 'fixed_from',
          comparator: 'upstream',
          first_fixed: '5.4.69',
          confidence: 'verified',
          detail:
            '5.4.y: fixed in 5.4.69 (stable 36f11775da75, AUTOSEL); 5.4.69–5.4.75 have a separate legacy-ioctl flush regression fixed in 5.4.76',
          sources: [SRC.stable_5469, SRC.stable_5476],
        },
        {
          key: 'upstream-3.15-to-5.3-no-fix',
          streams: [...UPSTREAM],
          upstream_from: '3.15.0-rc1',
          upstream_below: '5.4.0-rc1',
          status: 'no_fix_known',
          confidence: 'inferred',
          detail: '3.15 … 5.3 and the 4.19.y/4.14.y/4.9.y/4.4.y longterm lines: the bug exists and no backport is known',
          sources: [SRC.no_backport_419, SRC.introduced_315],
        },
        // --- vanilla-based builds (elrepo kernel-lt/ml, Fedora): the upstream table, one notch less sure ---
        {
          key: 'vanilla-based-5.5',
          streams: [...VANILLA_BASED],
          upstream_from: '5.5.0-rc1',
          status: 'fixed',
          first_fixed: '5.5.0-rc1',
          confidence: 'inferred',
          detail: 'vanilla-based build of upstream ≥ 5.5: carries 249bd9087a52 from its upstream base',
          sources: [SRC.vanilla, SRC.suse_patch],
        },
        {
          key: 'vanilla-based-5.4.y',
          streams: [...VANILLA_BASED],
          upstream_from: '5.4.0-rc1',
          upstream_below: '5.5.0-rc1',
          status: 'fixed_from',
          comparator: 'upstream',
          first_fixed: '5.4.69',
          confidence: 'inferred',
          detail: 'vanilla-based build of 5.4.y: fixed from upstream 5.4.69',
          sources: [SRC.vanilla, SRC.stable_5469],
        },
        {
          key: 'vanilla-based-3.15-to-5.3-no-fix',
          streams: [...VANILLA_BASED],
          upstream_from: '3.15.0-rc1',
          upstream_below: '5.4.0-rc1',
          status: 'no_fix_known',
          // one notch below the upstream rule (inferred): the vanilla premise is itself a belief
          confidence: 'belief',
          detail: 'vanilla-based build of 3.15 … 5.3 (e.g. elrepo kernel-lt 4.19/4.14/4.4): no fix known upstream',
          sources: [SRC.vanilla, SRC.no_backport_419],
        },
        // --- Red Hat family (RHEL, CentOS, Alma, Rocky, Oracle RHCK share the .elN suffix); rpm comparison ---
        {
          key: 'el7-before-appending-aio',
          streams: ['el7'],
          comparator: 'rpm',
          version_below: '3.10.0-257',
          status: 'not_present',
          confidence: 'inferred',
          detail: 'RHEL 7.0/7.1 (before 3.10.0-257.el7, which backported "xfs: allow appending aio writes"): extending AIO+DIO writes on XFS completed synchronously, so the race window did not exist',
          sources: [SRC.rhel7_257],
        },
        {
          key: 'el7-unpinned-1127z-to-1160',
          streams: ['el7'],
          comparator: 'rpm',
          version_from: '3.10.0-1127.0.1',
          version_below: '3.10.0-1160',
          status: 'unknown',
          confidence: 'verified',
          detail: 'RHEL 7.8 z-streams (3.10.0-1127.x) and builds before 3.10.0-1160: whether they carry the fix was not pinned',
          sources: [SRC.rhel7_unpinned],
        },
        {
          key: 'el7-fixed-from-1160',
          streams: ['el7'],
          status: 'fixed_from',
          comparator: 'rpm',
          first_fixed: '3.10.0-1160.el7',
          confidence: 'verified',
          detail:
            'RHEL 7: fixed in 7.9 (3.10.0-1160.el7 and its z-streams); 3.10.0-257 … 3.10.0-1127 (7.2–7.8 GA) have appending AIO and lack the fix',
          sources: [SRC.rhel7_1160, SRC.rhel7_257, SRC.rhel7_code],
        },
        {
          key: 'el8-unchecked-8.1-z-streams',
          streams: ['el8'],
          comparator: 'rpm',
          version_from: '4.18.0-147.8.2',
          version_below: '4.18.0-148',
          status: 'unknown',
          confidence: 'verified',
          detail: 'RHEL 8.1 EUS z-streams after 4.18.0-147.8.1.el8_1: not checked for the fix',
          sources: [SRC.rhel8_eus_unchecked],
        },
        {
          key: 'el8-fixed-from-165',
          streams: ['el8'],
          status: 'fixed_from',
          comparator: 'rpm',
          first_fixed: '4.18.0-165.el8',
          confidence: 'verified',
          detail: 'RHEL 8: fixed from 4.18.0-165.el8 (first GA with it: 8.2, 4.18.0-193.el8); 8.0/8.1 (4.18.0-80, 4.18.0-147) lack it',
          sources: [SRC.rhel8_spec],
        },
        {
          key: 'el9-el10-upstream-base',
          streams: ['el9', 'el10'],
          upstream_from: '5.5.0-rc1',
          status: 'fixed',
          confidence: 'inferred',
          detail: 'RHEL 9 (5.14-based) and RHEL 10 (6.12-based): upstream base ≥ 5.5 ⇒ fixed by inheritance',
          sources: [SRC.base_inherit, SRC.ksrc_61],
        },
        // --- Ubuntu ---
        {
          key: 'ubuntu-upstream-base-5.5',
          streams: ['ubuntu'],
          upstream_from: '5.5.0-rc1',
          status: 'fixed',
          confidence: 'inferred',
          detail: 'Ubuntu kernel on an upstream base ≥ 5.5 (groovy 5.8, jammy 5.15, noble 6.8, HWE …): fixed by inheritance',
          sources: [SRC.base_inherit],
        },
        {
          key: 'ubuntu-5.4-signature-base-before-5.4.69',
          streams: ['ubuntu'],
          upstream_from: '5.4.0-rc1',
          upstream_below: '5.4.69',
          when: { flavours: [...UBUNTU_MASTER_FLAVOURS, 'aws'], exact_upstream: true },
          status: 'no_fix_known',
          confidence: 'verified',
          detail: 'Ubuntu 5.4 whose /proc/version_signature names a stable base below 5.4.69: the fix came with the import of 5.4.69',
          sources: [SRC.ubuntu_focal_55, SRC.stable_5469],
        },
        {
          key: 'ubuntu-focal-master-abi-55',
          streams: ['ubuntu'],
          upstream_from: '5.4.0-rc1',
          upstream_below: '5.5.0-rc1',
          when: { flavours: [...UBUNTU_MASTER_FLAVOURS] },
          status: 'fixed_from',
          comparator: 'abi',
          first_fixed: '55',
          confidence: 'verified',
          detail:
            'Ubuntu focal 5.4 (and bionic HWE 5.4) master kernels: fixed from ABI 5.4.0-55 (package 5.4.0-55.61); the ABI is read from the package version when known, else from the release',
          sources: [SRC.ubuntu_focal_55],
        },
        {
          key: 'ubuntu-focal-aws-abi-1030',
          streams: ['ubuntu'],
          upstream_from: '5.4.0-rc1',
          upstream_below: '5.5.0-rc1',
          when: { flavours: ['aws'] },
          status: 'fixed_from',
          comparator: 'abi',
          first_fixed: '1030',
          confidence: 'verified',
          detail: 'Ubuntu focal linux-aws 5.4: fixed from ABI 5.4.0-1030 (1030.31, rebased on master 5.4.0-55.61)',
          sources: [SRC.ubuntu_aws_1030],
        },
        {
          key: 'ubuntu-5.4-derivative-unknown',
          streams: ['ubuntu'],
          upstream_from: '5.4.0-rc1',
          upstream_below: '5.5.0-rc1',
          status: 'unknown',
          confidence: 'verified',
          detail: 'Ubuntu 5.4 derivative kernels (azure, gcp, oracle, kvm, oem, raspi, …): their changelogs were not read and their ABI numbers are their own',
          sources: [SRC.ubuntu_derivatives_unread],
        },
        {
          key: 'ubuntu-3.15-to-5.3-no-fix',
          streams: ['ubuntu'],
          upstream_from: '3.15.0-rc1',
          upstream_below: '5.4.0-rc1',
          status: 'no_fix_known',
          confidence: 'inferred',
          detail: 'Ubuntu on an upstream base 3.15 … 5.3 (bionic 4.15, xenial 4.4): no backport known',
          sources: [SRC.ubuntu_bionic, SRC.no_backport_419],
        },
        // --- Debian ---
        {
          key: 'debian-upstream-base-5.5',
          streams: ['debian'],
          upstream_from: '5.5.0-rc1',
          status: 'fixed',
          confidence: 'inferred',
          detail: 'Debian kernel on an upstream base ≥ 5.5 (bullseye 5.10, bookworm 6.1, trixie 6.12, and their backports): fixed by inheritance',
          sources: [SRC.debian_buster, SRC.base_inherit, SRC.ksrc_61],
        },
        {
          key: 'debian-5.4.y',
          streams: ['debian'],
          upstream_from: '5.4.0-rc1',
          upstream_below: '5.5.0-rc1',
          status: 'fixed_from',
          comparator: 'upstream',
          first_fixed: '5.4.69',
          needs_exact_upstream: true,
          confidence: 'inferred',
          detail: 'Debian package of upstream 5.4.y: fixed from 5.4.69, read from the package version in uname -v ("Debian 5.4.x-n"); without it unknown',
          sources: [SRC.stable_5469],
        },
        {
          key: 'debian-3.15-to-5.3-no-fix',
          streams: ['debian'],
          upstream_from: '3.15.0-rc1',
          upstream_below: '5.4.0-rc1',
          status: 'no_fix_known',
          confidence: 'inferred',
          detail: 'Debian on an upstream base 3.15 … 5.3 (buster 4.19, stretch 4.9, jessie 3.16): follows longterm lines where no backport is known',
          sources: [SRC.debian_buster, SRC.no_backport_419],
        },
        // --- SUSE ---
        {
          key: 'suse-upstream-base-5.5',
          streams: ['suse'],
          upstream_from: '5.5.0-rc1',
          status: 'fixed',
          confidence: 'inferred',
          detail: 'SUSE kernel on an upstream base ≥ 5.5 (SLE15-SP4+ 5.14, Tumbleweed): fixed by inheritance',
          sources: [SRC.base_inherit],
        },
        {
          key: 'suse-before-5.5-unknown',
          streams: ['suse'],
          upstream_below: '5.5.0-rc1',
          status: 'unknown',
          confidence: 'verified',
          detail:
            'SUSE kernel on an upstream base < 5.5 (SLE12 4.12, SLE15-SP1 4.12, SP2/SP3 5.3): SUSE carries the fix (bsc#1158751) but in which branch and update is not known',
          sources: [SRC.suse_unknown_branch],
        },
        // --- vendor builds that carry the real kernel.org patch level (stream custom, vendor recognised) ---
        {
          key: 'patch-level-vendor-5.5',
          streams: ['custom'],
          upstream_from: '5.5.0-rc1',
          when: { vendors: [...PATCH_LEVEL_VENDORS] },
          status: 'fixed',
          confidence: 'inferred',
          detail: 'vendor build (Ubuntu mainline PPA, Proxmox, Arch, Amazon Linux 2, ChromeOS) of upstream ≥ 5.5: carries 249bd9087a52 from its base',
          sources: [SRC.patch_level_vendors, SRC.mainline_ppa, SRC.base_inherit],
        },
        {
          key: 'patch-level-vendor-5.4.y',
          streams: ['custom'],
          upstream_from: '5.4.0-rc1',
          upstream_below: '5.5.0-rc1',
          when: { vendors: [...PATCH_LEVEL_VENDORS] },
          status: 'fixed_from',
          comparator: 'upstream',
          first_fixed: '5.4.69',
          confidence: 'inferred',
          detail: 'vendor build of 5.4.N (Ubuntu mainline PPA 5.4.N-0504NN, Proxmox 5.4.N-M-pve, Arch 5.4.N-M-lts, Amazon Linux 2 5.4.N-….amzn2, ChromeOS 5.4.N-…): judged by N, fixed from 5.4.69 as in stable',
          sources: [SRC.patch_level_vendors, SRC.mainline_ppa, SRC.stable_5469],
        },
        {
          key: 'mainline-ppa-3.15-to-5.3-no-fix',
          streams: ['custom'],
          upstream_from: '3.15.0-rc1',
          upstream_below: '5.4.0-rc1',
          when: { vendors: ['ubuntu-mainline-ppa'] },
          status: 'no_fix_known',
          confidence: 'inferred',
          detail: 'Ubuntu mainline PPA build (vanilla) of 3.15 … 5.3: the longterm lines got no backport',
          sources: [SRC.mainline_ppa, SRC.no_backport_419],
        },
        // --- custom and unrecognised kernels ---
        {
          key: 'custom-upstream-base-5.5',
          streams: ['custom'],
          upstream_from: '5.5.0-rc1',
          status: 'fixed',
          confidence: 'belief',
          detail:
            'custom kernel (unrecognised suffix) on an upstream base ≥ 5.5: fixed by upstream version only — custom kernels can differ (a self-test on this boot decides over this)',
          sources: [SRC.base_inherit],
        },
        {
          key: 'custom-before-5.5-unknown',
          streams: ['custom'],
          status: 'unknown',
          confidence: 'verified',
          detail: 'custom kernel on an upstream base < 5.5: its patches are not known, so neither fixed nor affected can be claimed',
          sources: [SRC.base_inherit],
        },
      ],
      mitigations: [
        {
          code: 'qemu_serialises_post_eof_zeroes',
          applies_to: 'any',
          detail:
            'QEMU ≥ 4.1.1 / 4.2.0 serialises post-EOF write-zeroes itself (292d06b925b2): keep that enabled — do not run QEMU 4.1.0 or builds that drop the workaround (not sufficient when the self-test reproduced the race below the zeroed range)',
          sources: [SRC.qemu_workaround],
        },
        {
          code: 'use_aio_threads',
          applies_to: 'xfs',
          detail: 'use aio=threads instead of aio=native or aio=io_uring for images on this path (synchronous O_DIRECT writes are not exposed)',
          sources: [SRC.io_modes],
        },
        {
          code: 'use_cache_writeback',
          applies_to: 'xfs',
          detail: 'use cache=writeback (cache.direct=off) for images on this path: buffered writes hold the inode lock until the size is updated, so they are not exposed',
          sources: [SRC.io_modes],
        },
        {
          code: 'place_on_non_xfs',
          applies_to: 'xfs',
          detail: 'place the images on a local non-XFS filesystem (e.g. ext4, which is not affected by this race)',
          sources: [SRC.ext4_not_affected],
        },
        {
          code: 'upgrade_kernel',
          applies_to: 'any',
          detail:
            'boot a fixed kernel: upstream ≥ 5.5 or 5.4.69+ (5.4.76+ also has the legacy-ioctl follow-up); for distribution kernels look for "xfs: properly serialise fallocate against AIO+DIO" in the changelog',
          sources: [SRC.stable_5469, SRC.stable_5476, SRC.suse_patch],
        },
        {
          code: 'check_server_filesystem',
          applies_to: 'network',
          detail: 'a client cannot see the server\'s filesystem: check the server or brick filesystem and kernel (e.g. Gluster or NFS exports on XFS)',
          sources: [SRC.gluster],
        },
      ],
      sources: [SRC.suse_patch, SRC.stable_5469, SRC.io_modes],
    },
  ],
} satisfies KnowledgeBaseInput;

/** The built-in knowledge base (validated by the tests, not at every start). */
export function loadKnowledgeBase(): KnowledgeBase {
  return BUILTIN;
}

const BUILTIN: KnowledgeBase = KNOWLEDGE_BASE_DATA;

/** The built-in knowledge base. */
export function builtinKnowledgeBase(): KnowledgeBase {
  return BUILTIN;
}
