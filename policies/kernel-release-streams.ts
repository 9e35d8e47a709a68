// One small parser per kernel stream. Each gets the release split into its upstream head and the rest,
// fills in `out` and returns true when the release is of its stream; parseKernelRelease() tries them in order.
import { DEBIAN_FLAVOURS, DEBIAN_FLAVOUR_ARCH, RPM_ARCHES, SUSE_FLAVOURS, UBUNTU_FLAVOURS } from './kernel-release-names.js';
import type { ParsedKernelRelease } from './kernel-release-types.js';
import { formatUpstream, parseUpstream, type UpstreamVersion } from './vercmp.js';

export interface StreamInput {
  out: ParsedKernelRelease;
  /** The x.y[.z] at the start of the release. */
  base: UpstreamVersion;
  /** Everything after it. */
  rest: string;
  /** uname -v */
  version: string | null;
  /** /proc/version_signature */
  signature: string | null;
}

export type StreamParser = (i: StreamInput) => boolean;

export function setUpstream(out: ParsedKernelRelease, v: UpstreamVersion): void {
  out.upstream = { major: v.major, minor: v.minor, patch: v.patch };
  out.rc = v.rc;
  out.upstream_string = formatUpstream(v);
}

/** Mainline release candidate: 5.5.0-rc1, 5.5-rc1 (with a local suffix → custom). */
export const parseReleaseCandidate: StreamParser = ({ out, base, rest }) => {
  const rc = /^-rc(\d{1,9})(.*)$/.exec(rest);
  if (!rc) return false;
  setUpstream(out, { ...base, rc: Number(rc[1]) });
  if (rc[2] === '' || rc[2] === '+') {
    out.stream = 'mainline';
  } else {
    out.stream = 'custom';
    out.distro_release = rc[2]!.replace(/^[-.+]/, '');
    out.notes.push(`release candidate with local suffix ${JSON.stringify(rc[2])}`);
  }
  return true;
};

/** Plain kernel.org version: x.y, x.y.z. */
export const parsePlain: StreamParser = ({ out, base, rest }) => {
  if (rest !== '') return false;
  out.stream = base.patch === 0 ? 'mainline' : 'stable';
  return true;
};

interface RpmParts {
  /** The release without arch and variant, starting with '-'. */
  rpmRest: string;
  arch: string | null;
  variant: string | null;
}

/** Splits x.y.z-<release>.<dist>[.<arch>][+variant] into its rpm parts. */
export function rpmParts(rest: string): RpmParts {
  const variant = /\+(debug|rt|64k|64k-debug)$/.exec(rest);
  const noVariant = variant ? rest.slice(0, -variant[0].length) : rest;
  const arch = RPM_ARCHES.find((a) => noVariant.endsWith(`.${a}`)) ?? null;
  const rpmRest = arch === null ? noVariant : noVariant.slice(0, -(arch.length + 1));
  return { rpmRest, arch, variant: variant ? variant[1]! : null };
}

/** Red Hat family and its look-alikes: .elN (RHEL, CentOS, Rocky, Alma, Oracle RHCK), elrepo, Oracle UEK. */
export const parseEnterpriseLinux: StreamParser = ({ out, rest }) => {
  const { rpmRest, arch, variant } = rpmParts(rest);
  const el = /^-(.+?\.el(\d+)(?:_\d+)?)(.*)$/.exec(rpmRest);
  if (!el) return false;
  const tail = el[3] ?? '';
  out.arch = arch;
  out.flavour = variant ? `${arch ?? ''}+${variant}` : arch;
  out.distro_release = rpmRest.slice(1);
  if (/^\.elrepo\b/.test(tail) || /\.elrepo/.test(rpmRest)) {
    out.stream = 'elrepo';
    out.notes.push('elrepo kernel-lt/kernel-ml: built from kernel.org sources');
    return true;
  }
  if (/^uek/.test(tail)) {
    out.stream = 'custom';
    out.vendor = 'oracle-uek';
    out.notes.push('Oracle UEK: its own kernel line, not the RHEL kernel');
    return true;
  }
  const major = Number(el[2]);
  const stream = ({ 7: 'el7', 8: 'el8', 9: 'el9', 10: 'el10' } as const)[major as 7 | 8 | 9 | 10];
  if (tail !== '') out.notes.push(`el suffix ${JSON.stringify(tail)}`);
  if (stream === undefined) {
    out.stream = 'custom';
    out.notes.push(`el${major} is not a known RHEL major`);
  } else {
    out.stream = stream;
  }
  return true;
};

/** Fedora: x.y.z-<release>.fcNN[.<arch>]. */
export const parseFedora: StreamParser = ({ out, rest }) => {
  const { rpmRest, arch } = rpmParts(rest);
  const fc = /^-(.+?\.fc\d+)(.*)$/.exec(rpmRest);
  if (!fc) return false;
  out.stream = 'fedora';
  out.arch = arch;
  out.flavour = arch;
  out.distro_release = fc[1]!;
  return true;
};

/** Debian: x.y.z-<abi>-<flavour>, x.y.z-0.bpo.<abi>-<flavour>, x.y.z+deb13-<flavour>; uname -v names the package. */
export const parseDebian: StreamParser = ({ out, rest, version }) => {
  const debianPkg = version === null ? null : /\bDebian (\S+)/.exec(version);
  const deb = /^(\+[a-z0-9.]+)?-((?:\d+\.(?:bpo|deb\d+)\.)?\d+(?:\.\d+)?)-([a-z0-9][a-z0-9-]*)$/.exec(rest);
  const debFlavour = /^(?:\+[a-z0-9.]+)?-[a-z0-9][a-z0-9-]*$/.exec(rest) && DEBIAN_FLAVOURS.has(rest.replace(/^(?:\+[a-z0-9.]+)?-/, ''));
  if (!((deb && DEBIAN_FLAVOURS.has(deb[3]!)) || debianPkg || debFlavour)) return false;
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
    if (up) setUpstream(out, up);
    else {
      out.upstream_exact = false;
      out.notes.push(`package version ${debianPkg[1]} has no readable upstream version`);
    }
  } else {
    // 6.1.0-18-amd64: the ".0" is part of the ABI name, not the upstream patch level
    out.upstream_exact = false;
    out.notes.push('no package version (uname -v): the patch level in the release is an ABI name, not the upstream version');
  }
  return true;
};

/** Ubuntu: x.y.z-<abi>-<flavour>; /proc/version_signature: "Ubuntu 5.4.0-42.46-generic 5.4.44". */
export const parseUbuntu: StreamParser = ({ out, base, rest, version, signature }) => {
  const ubuntuSig = signature === null ? null : /^Ubuntu\s+(\S+?)-([a-z][a-z0-9-]*)\s+(\S+)/.exec(signature.trim());
  const ub = /^-(\d+)-([a-z][a-z0-9-]*)$/.exec(rest);
  const ubuntuByVersion = version !== null && /-Ubuntu\b/.test(version);
  if (!(ub && (UBUNTU_FLAVOURS.has(ub[2]!) || ubuntuSig !== null || ubuntuByVersion))) return false;
  out.stream = 'ubuntu';
  out.distro_release = ub[1]!;
  out.flavour = ub[2]!;
  if (ubuntuSig) {
    out.package_version = ubuntuSig[1]!;
    const up = parseUpstream(ubuntuSig[3]!);
    if (up) setUpstream(out, up);
    else out.upstream_exact = false;
  } else {
    // uname -v "#46-Ubuntu SMP ..." gives the upload number
    const upload = version === null ? null : /#(\d+)(?:~\S+)?-Ubuntu\b/.exec(version);
    if (upload) out.package_version = `${formatUpstream(base)}-${ub[1]}.${upload[1]}`;
    out.upstream_exact = false;
    out.notes.push('no /proc/version_signature: the release carries an ABI number, not the upstream patch level');
  }
  return true;
};

/** SUSE: x.y.z-<release>-<flavour>, release like 122.37 or 150300.59.93. */
export const parseSuse: StreamParser = ({ out, rest }) => {
  const suse = /^-(\d+(?:\.\d+)*)-([a-z0-9]+)$/.exec(rest);
  if (!(suse && SUSE_FLAVOURS.has(suse[2]!))) return false;
  out.stream = 'suse';
  out.distro_release = suse[1]!;
  out.flavour = suse[2]!;
  return true;
};

/** Ubuntu's mainline PPA: 5.4.69-050469-generic, 5.5.0-050500rc1-generic — vanilla kernel.org builds. */
export const parseUbuntuMainlinePpa: StreamParser = ({ out, base, rest }) => {
  const m = /^-(\d{6,8})(?:rc(\d{1,9}))?-([a-z][a-z0-9-]*)$/.exec(rest);
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (!m || m[1] !== `${pad(base.major)}${pad(base.minor)}${pad(base.patch)}`) return false;
  if (m[2] !== undefined) setUpstream(out, { ...base, rc: Number(m[2]) });
  out.stream = 'custom';
  out.vendor = 'ubuntu-mainline-ppa';
  out.distro_release = rest.slice(1);
  out.flavour = m[3]!;
  out.notes.push('Ubuntu mainline PPA build: vanilla kernel.org sources at the version it names');
  return true;
};

/** Vendor builds whose release carries the real kernel.org patch level (distro-fixes.md, last section). */
const PATCH_LEVEL_VENDORS: readonly [RegExp, NonNullable<ParsedKernelRelease['vendor']>, string][] = [
  [/^-\d+-pve$/, 'proxmox', 'Proxmox VE kernel'],
  [/^-\d+-lts$|^-arch\d+-\d+$/, 'arch', 'Arch Linux kernel'],
  [/\.amzn2(?:int)?(?:\.(?:x86_64|aarch64))?$/, 'amazon-linux-2', 'Amazon Linux 2 kernel'],
  [/^-\d+-g[0-9a-f]{7,40}$/, 'chromeos', 'ChromeOS-style build (git describe from the stable tag it names)'],
];

/** Anything else with a readable x.y.z: a custom build of that upstream version (or a known vendor's build of it). */
export const parseCustom: StreamParser = ({ out, rest }) => {
  out.stream = 'custom';
  out.distro_release = rest.replace(/^[-.+_]/, '');
  const vendor = PATCH_LEVEL_VENDORS.find(([re]) => re.test(rest));
  if (vendor !== undefined) {
    out.vendor = vendor[1];
    out.notes.push(`${vendor[2]}: stable ${out.upstream_string} plus its own patches`);
  } else {
    out.notes.push(`unrecognised suffix ${JSON.stringify(rest)}: treated as a custom kernel of upstream ${out.upstream_string}`);
  }
  return true;
};

/** In the order they are tried: the first that recognises the release decides its stream. */
export const STREAM_PARSERS: readonly StreamParser[] = [
  parseReleaseCandidate,
  parsePlain,
  parseEnterpriseLinux,
  parseFedora,
  parseUbuntuMainlinePpa,
  parseDebian,
  parseUbuntu,
  parseSuse,
  parseCustom,
];
