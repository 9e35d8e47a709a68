// Kernel release parsing (uname -r, plus uname -v and /proc/version_signature where they help) and the
// knowledge-base lookup that turns a parsed release into affected / fixed / not_present / unknown.
import type { KbConfidence, KbRuleStatus, KbStreamRule, KernelStream, KnowledgeBase } from './knowledge-base-schema.js';
import { compareUpstream, dpkgVercmp, formatUpstream, parseUpstream, rpmEvrCmp, type UpstreamVersion } from './vercmp.js';

export type { KernelStream } from './knowledge-base-schema.js';

export interface ParsedKernelRelease {
  release: string;
  /** The upstream version the kernel is based on: from the package version when known (Debian/Ubuntu), else from the release. */
  upstream: { major: number; minor: number; patch: number } | null;
  upstream_string: string | null;
  /** -rcN of a mainline release candidate. */
  rc: number | null;
  /**
   * false when the patch level is not known: Debian/Ubuntu releases carry an ABI number ("6.1.0-18",
   * "5.4.0-42") whose ".0" is not the upstream patch level; only the package version tells it.
   */
  upstream_exact: boolean;
  stream: KernelStream;
  /** The distribution part of the release: '193.28.1.el8_2', '42', '0.bpo.9', '150300.59.93'. */
  distro_release: string | null;
  /** Debian '6.1.76-1' (from uname -v) or Ubuntu '5.4.0-42.46' (from /proc/version_signature). */
  package_version: string | null;
  flavour: string | null;
  arch: string | null;
  /** How the stream was recognised, for explanations. */
  notes: string[];
}

export interface ParseOptions {
  /** uname -v */
  version?: string | null;
  /** /proc/version_signature */
  signature?: string | null;
}

const RPM_ARCHES = ['x86_64', 'aarch64', 'ppc64le', 'ppc64', 's390x', 'i686', 'i386', 'armv7hl', 'noarch'];
const UBUNTU_FLAVOURS = new Set([
  'generic',
  'generic-lpae',
  'generic-64k',
  'lowlatency',
  'lowlatency-64k',
  'aws',
  'azure',
  'azure-fde',
  'gcp',
  'gke',
  'gkeop',
  'kvm',
  'oracle',
  'ibm',
  'raspi',
  'raspi-nolpae',
  'nvidia',
  'nvidia-lowlatency',
  'oem',
  'virtual',
  'intel-iotg',
  'realtime',
]);
const DEBIAN_FLAVOURS = new Set([
  'amd64',
  'arm64',
  '686',
  '686-pae',
  'armmp',
  'armmp-lpae',
  'cloud-amd64',
  'cloud-arm64',
  'rt-amd64',
  'rt-arm64',
  'rt-686-pae',
  'powerpc64le',
  'ppc64el',
  's390x',
  'marvell',
  'rpi',
  'loongson-3',
  'octeon',
  '4kc-malta',
  '5kc-malta',
  'mips64r2el',
  'riscv64',
]);
const DEBIAN_FLAVOUR_ARCH: Record<string, string> = {
  amd64: 'x86_64',
  'cloud-amd64': 'x86_64',
  'rt-amd64': 'x86_64',
  arm64: 'aarch64',
  'cloud-arm64': 'aarch64',
  'rt-arm64': 'aarch64',
  '686': 'i686',
  '686-pae': 'i686',
  'rt-686-pae': 'i686',
  ppc64el: 'ppc64le',
  powerpc64le: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};
const SUSE_FLAVOURS = new Set(['default', 'azure', 'rt', 'preempt', 'kvmsmall', '64kb', 'zfcpdump', 'pae', 'vanilla', 'lpae']);

function upstreamFrom(v: UpstreamVersion | null): { major: number; minor: number; patch: number } | null {
  return v === null ? null : { major: v.major, minor: v.minor, patch: v.patch };
}

/**
 * Parses a kernel release. Recognised streams: mainline (x.y[.0][-rcN]), stable (x.y.z, z>0), el7–el10
 * (RHEL and rebuilds), elrepo, fedora, ubuntu, debian (incl. backports), suse; anything else with a readable
 * x.y.z is `custom`, and a release without one is `unknown`.
 */
export function parseKernelRelease(release: string, opts: ParseOptions = {}): ParsedKernelRelease {
  const rel = release.trim();
  const version = opts.version ?? null;
  const signature = opts.signature ?? null;
  const out: ParsedKernelRelease = {
    release: rel,
    upstream: null,
    upstream_string: null,
    rc: null,
    upstream_exact: true,
    stream: 'unknown',
    distro_release: null,
    package_version: null,
    flavour: null,
    arch: null,
    notes: [],
  };

  const head = /^(\d+)\.(\d+)(?:\.(\d+))?(.*)$/.exec(rel);
  if (!head) {
    out.notes.push('release does not start with an x.y version');
    return out;
  }
  const base: UpstreamVersion = { major: Number(head[1]), minor: Number(head[2]), patch: head[3] === undefined ? 0 : Number(head[3]), rc: null };
  const rest = head[4] ?? '';
  const setUpstream = (v: UpstreamVersion): void => {
    out.upstream = upstreamFrom(v);
    out.rc = v.rc;
    out.upstream_string = formatUpstream(v);
  };
  setUpstream(base);

  // mainline release candidate: 5.5.0-rc1, 5.5-rc1 (optionally followed by a local suffix → custom)
  const rc = /^-rc(\d+)(.*)$/.exec(rest);
  if (rc) {
    setUpstream({ ...base, rc: Number(rc[1]) });
    if (rc[2] === '' || rc[2] === '+') {
      out.stream = 'mainline';
    } else {
      out.stream = 'custom';
      out.distro_release = rc[2]!.replace(/^[-.+]/, '');
      out.notes.push(`release candidate with local suffix ${JSON.stringify(rc[2])}`);
    }
    return out;
  }

  // plain kernel.org version: x.y, x.y.z
  if (rest === '') {
    out.stream = base.patch === 0 ? 'mainline' : 'stable';
    return out;
  }

  // rpm-style: x.y.z-<release>.<dist>[.<arch>]
  const variant = /\+(debug|rt|64k|64k-debug)$/.exec(rest);
  const noVariant = variant ? rest.slice(0, -variant[0].length) : rest;
  const rpmArch = RPM_ARCHES.find((a) => noVariant.endsWith(`.${a}`)) ?? null;
  const rpmRest = rpmArch === null ? noVariant : noVariant.slice(0, -(rpmArch.length + 1));
  const el = /^-(.+?\.el(\d+)(?:_\d+)?)(.*)$/.exec(rpmRest);
  if (el) {
    const tail = el[3] ?? '';
    out.arch = rpmArch;
    out.flavour = variant ? `${rpmArch ?? ''}+${variant[1]}` : rpmArch;
    if (/^\.elrepo\b/.test(tail) || /\.elrepo/.test(rpmRest)) {
      out.stream = 'elrepo';
      out.distro_release = rpmRest.slice(1);
      out.notes.push('elrepo kernel-lt/kernel-ml: built from kernel.org sources');
      return out;
    }
    if (/^uek/.test(tail)) {
      out.stream = 'custom';
      out.distro_release = rpmRest.slice(1);
      out.notes.push('Oracle UEK: its own kernel line, not the RHEL kernel');
      return out;
    }
    const major = Number(el[2]);
    const stream = ({ 7: 'el7', 8: 'el8', 9: 'el9', 10: 'el10' } as const)[major as 7 | 8 | 9 | 10];
    out.distro_release = rpmRest.slice(1);
    if (tail !== '') out.notes.push(`el suffix ${JSON.stringify(tail)}`);
    if (stream === undefined) {
      out.stream = 'custom';
      out.notes.push(`el${major} is not a known RHEL major`);
    } else {
      out.stream = stream;
    }
    return out;
  }
  const fc = /^-(.+?\.fc\d+)(.*)$/.exec(rpmRest);
  if (fc) {
    out.stream = 'fedora';
    out.arch = rpmArch;
    out.flavour = rpmArch;
    out.distro_release = fc[1]!;
    return out;
  }

  // Debian: x.y.z-<abi>-<flavour>, x.y.z-0.bpo.<abi>-<flavour>, x.y.z+deb13-<flavour>; uname -v names the package
  const debianPkg = version === null ? null : /\bDebian (\S+)/.exec(version);
  const deb = /^(\+[a-z0-9.]+)?-((?:\d+\.(?:bpo|deb\d+)\.)?\d+(?:\.\d+)?)-([a-z0-9][a-z0-9-]*)$/.exec(rest);
  const debFlavour = /^(?:\+[a-z0-9.]+)?-[a-z0-9][a-z0-9-]*$/.exec(rest) && DEBIAN_FLAVOURS.has(rest.replace(/^(?:\+[a-z0-9.]+)?-/, ''));
  if ((deb && DEBIAN_FLAVOURS.has(deb[3]!)) || debianPkg || debFlavour) {
    out.stream = 'debian';
    if (deb) {
      out.distro_release = deb[2]!;
      out.flavour = deb[3]!;
    } else {
      const f = /-([a-z0-9][a-z0-9-]*)$/.exec(rest);
      out.flavour = f ? f[1]! : null;
      out.distro_release = rest.replace(/^[-+]/, '');
    }
    out.arch = out.flavour === null ? null : (DEBIAN_FLAVOUR_ARCH[out.flavour] ?? null);
    if (debianPkg) {
      out.package_version = debianPkg[1]!;
      const up = parseUpstream(debianPkg[1]!.replace(/-[^-]*$/, '').replace(/\+.*$/, '').replace(/^\d+:/, ''));
      if (up) setUpstream(up);
      else {
        out.upstream_exact = false;
        out.notes.push(`package version ${debianPkg[1]} has no readable upstream version`);
      }
    } else {
      // 6.1.0-18-amd64: the ".0" is part of the ABI name, not the upstream patch level
      out.upstream_exact = false;
      out.notes.push('no package version (uname -v): the patch level in the release is an ABI name, not the upstream version');
    }
    return out;
  }

  // Ubuntu: x.y.z-<abi>-<flavour>; /proc/version_signature: "Ubuntu 5.4.0-42.46-generic 5.4.44"
  const ubuntuSig = signature === null ? null : /^Ubuntu\s+(\S+?)-([a-z][a-z0-9-]*)\s+(\S+)/.exec(signature.trim());
  const ub = /^-(\d+)-([a-z][a-z0-9-]*)$/.exec(rest);
  const ubuntuByVersion = version !== null && /-Ubuntu\b/.test(version);
  if (ub && (UBUNTU_FLAVOURS.has(ub[2]!) || ubuntuSig !== null || ubuntuByVersion)) {
    out.stream = 'ubuntu';
    out.distro_release = ub[1]!;
    out.flavour = ub[2]!;
    if (ubuntuSig) {
      out.package_version = ubuntuSig[1]!;
      const up = parseUpstream(ubuntuSig[3]!);
      if (up) setUpstream(up);
      else out.upstream_exact = false;
    } else {
      // uname -v "#46-Ubuntu SMP ..." gives the upload number
      const upload = version === null ? null : /#(\d+)(?:~\S+)?-Ubuntu\b/.exec(version);
      if (upload) out.package_version = `${formatUpstream(base)}-${ub[1]}.${upload[1]}`;
      out.upstream_exact = false;
      out.notes.push('no /proc/version_signature: the release carries an ABI number, not the upstream patch level');
    }
    return out;
  }

  // SUSE: x.y.z-<release>-<flavour>, release like 122.37 or 150300.59.93
  const suse = /^-(\d+(?:\.\d+)*)-([a-z0-9]+)$/.exec(rest);
  if (suse && SUSE_FLAVOURS.has(suse[2]!)) {
    out.stream = 'suse';
    out.distro_release = suse[1]!;
    out.flavour = suse[2]!;
    return out;
  }

  // anything else: a custom build of the upstream version in its first x.y.z
  out.stream = 'custom';
  out.distro_release = rest.replace(/^[-.+_]/, '');
  out.notes.push(`unrecognised suffix ${JSON.stringify(rest)}: treated as a custom kernel of upstream ${out.upstream_string}`);
  return out;
}

export type KernelStatusValue = 'affected' | 'fixed' | 'not_present' | 'unknown';

export interface KernelStatus {
  status: KernelStatusValue;
  confidence: KbConfidence;
  /** Key of the knowledge-base rule that matched (or 'no_rule'), with a short statement. */
  rule: string;
  rule_detail: string;
  /** What the matching rule states ('none' when no rule matched). */
  rule_status: KbRuleStatus | 'none';
  /** The rule's sources, joined. */
  source: string;
  /** The comparison made, when a fixed_from rule decided (e.g. "5.4.68 < 5.4.69"). */
  comparison: string | null;
}

const inRange = (p: ParsedKernelRelease, r: KbStreamRule): boolean => {
  if (p.upstream === null) return r.upstream_from === undefined && r.upstream_below === undefined;
  const v: UpstreamVersion = { ...p.upstream, rc: p.rc };
  if (r.upstream_from !== undefined && compareUpstream(v, r.upstream_from) < 0) return false;
  if (r.upstream_below !== undefined && compareUpstream(v, r.upstream_below) >= 0) return false;
  return true;
};

/** Looks the kernel up in the bug's stream rules. A release the tables do not know is `unknown`. */
export function kernelStatus(parsed: ParsedKernelRelease, kb: KnowledgeBase, bugId: string): KernelStatus {
  const bug = kb.bugs.find((b) => b.id === bugId);
  if (!bug) throw new Error(`knowledge base ${kb.revision} has no bug ${JSON.stringify(bugId)}`);
  const rule = bug.streams.find((r) => r.streams.includes(parsed.stream) && inRange(parsed, r));
  if (!rule) {
    return {
      status: 'unknown',
      confidence: 'verified',
      rule: 'no_rule',
      rule_status: 'none',
      rule_detail: `no knowledge-base rule covers stream ${parsed.stream}${parsed.upstream_string ? ` at upstream ${parsed.upstream_string}` : ''}`,
      source: `knowledge base ${kb.revision}`,
      comparison: null,
    };
  }
  const source = rule.sources.map((s) => `${s.ref} [${s.confidence}]`).join('; ');
  const base = { confidence: rule.confidence, rule: rule.key, rule_detail: rule.detail, rule_status: rule.status, source, comparison: null };
  switch (rule.status) {
    case 'fixed':
      return { ...base, status: 'fixed' };
    case 'no_fix_known':
      return { ...base, status: 'affected' };
    case 'not_present':
      return { ...base, status: 'not_present' };
    case 'unknown':
      return { ...base, status: 'unknown' };
    case 'fixed_from': {
      const first = rule.first_fixed!;
      let current: string | null = null;
      let cmp: number | null = null;
      let why = '';
      if (rule.comparator === 'upstream') {
        if (parsed.upstream === null) why = 'no upstream version';
        else if (rule.needs_exact_upstream && !parsed.upstream_exact) why = 'the upstream patch level is not known (no package version / version signature)';
        else {
          current = parsed.upstream_string!;
          cmp = compareUpstream(current, first);
        }
      } else if (rule.comparator === 'rpm') {
        if (parsed.upstream_string === null || parsed.distro_release === null) why = 'no rpm version-release';
        else {
          current = `${parsed.upstream_string}-${parsed.distro_release}`;
          cmp = rpmEvrCmp(current, first);
        }
      } else {
        if (parsed.package_version === null) why = 'no Debian/Ubuntu package version';
        else {
          current = parsed.package_version;
          cmp = dpkgVercmp(current, first);
        }
      }
      if (cmp === null) {
        return { ...base, status: 'unknown', confidence: 'verified', comparison: `cannot compare with ${first}: ${why}` };
      }
      const comparison = `${current} ${cmp < 0 ? '<' : cmp > 0 ? '>' : '='} ${first} (${rule.comparator})`;
      return { ...base, status: cmp >= 0 ? 'fixed' : 'affected', comparison };
    }
  }
}
