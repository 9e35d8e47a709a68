// Version comparators: rpm (rpmvercmp), dpkg (verrevcmp with epoch/revision), and upstream kernel
// versions (x.y.z with -rcN sorting before the release). All return -1, 0 or 1.
//
// Why not semver for kernels: semver.coerce('4.18.0-193.28.1.el8_2') drops the RHEL z-stream, and with
// prereleases '5.4.0-100-generic' sorts below '5.4.0-42-generic'. semver is used only to compare clean
// x.y.z strings (compareUpstream's fast path).
// semver's compare alone: its index loads every function and range class (issue 11, start-up)
import compare from 'semver/functions/compare.js';

export type Cmp = -1 | 0 | 1;

const sign = (n: number): Cmp => (n < 0 ? -1 : n > 0 ? 1 : 0);

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined): boolean =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
const isAlnum = (c: string | undefined): boolean => isDigit(c) || isAlpha(c);

/**
 * rpm's segment comparison (lib/rpmvercmp.c, rpm ≥ 4.15 incl. '^'): strings are split into runs of digits
 * and runs of letters, other characters only separate; digits compare numerically (leading zeros ignored)
 * and a numeric run beats an alphabetic one; '~' sorts before everything (even the end), '^' after the end
 * but before any further segment.
 */
export function rpmvercmp(a: string, b: string): Cmp {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a[i]) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]) && b[j] !== '~' && b[j] !== '^') j++;

    // tilde: sorts before anything, including the end of the string
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    // caret: like tilde but sorts after the end of the string
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (!(i < a.length && j < b.length)) break;

    const numeric = isDigit(a[i]);
    const test = numeric ? isDigit : isAlpha;
    let ie = i;
    let je = j;
    while (ie < a.length && test(a[ie])) ie++;
    while (je < b.length && test(b[je])) je++;
    // a[i] is alnum, so its segment is not empty; b's can be (different kinds): numeric is newer
    if (je === j) return numeric ? 1 : -1;

    let sa = a.slice(i, ie);
    let sb = b.slice(j, je);
    if (numeric) {
      sa = sa.replace(/^0+/, '');
      sb = sb.replace(/^0+/, '');
      if (sa.length !== sb.length) return sa.length > sb.length ? 1 : -1;
    }
    if (sa !== sb) return sa < sb ? -1 : 1;
    i = ie;
    j = je;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

/** rpm EVR comparison: [epoch:]version[-release]; a missing epoch is 0. */
export function rpmEvrCmp(a: string, b: string): Cmp {
  const pa = splitEvr(a);
  const pb = splitEvr(b);
  if (pa.epoch !== pb.epoch) return pa.epoch < pb.epoch ? -1 : 1;
  const v = rpmvercmp(pa.version, pb.version);
  if (v !== 0) return v;
  if (pa.release === null || pb.release === null) return 0; // rpm: a missing release matches any
  return rpmvercmp(pa.release, pb.release);
}

function splitEvr(s: string): { epoch: number; version: string; release: string | null } {
  let rest = s;
  let epoch = 0;
  const colon = rest.indexOf(':');
  if (colon >= 0 && /^\d+$/.test(rest.slice(0, colon))) {
    epoch = Number(rest.slice(0, colon));
    rest = rest.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  if (dash < 0) return { epoch, version: rest, release: null };
  return { epoch, version: rest.slice(0, dash), release: rest.slice(dash + 1) };
}

// dpkg: lib/dpkg/version.c order() / verrevcmp()
function dpkgOrder(c: string | undefined): number {
  if (c === undefined) return 0;
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c.charCodeAt(0);
  if (c === '~') return -1;
  return c.charCodeAt(0) + 256;
}

function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = dpkgOrder(a[i]);
      const bc = dpkgOrder(b[j]);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

export interface DpkgVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

/** Splits [epoch:]upstream[-revision]; the revision is after the last '-'. */
export function parseDpkgVersion(v: string): DpkgVersion {
  let s = v.trim();
  let epoch = 0;
  const colon = s.indexOf(':');
  if (colon >= 0) {
    const e = s.slice(0, colon);
    if (!/^\d+$/.test(e)) throw new Error(`invalid dpkg version ${JSON.stringify(v)}: epoch is not a number`);
    epoch = Number(e);
    s = s.slice(colon + 1);
  }
  const dash = s.lastIndexOf('-');
  if (dash < 0) return { epoch, upstream: s, revision: '' };
  return { epoch, upstream: s.slice(0, dash), revision: s.slice(dash + 1) };
}

/** dpkg --compare-versions: epoch, then upstream, then revision; '~' lowest, letters before non-letters. */
export function dpkgVercmp(a: string, b: string): Cmp {
  const pa = parseDpkgVersion(a);
  const pb = parseDpkgVersion(b);
  if (pa.epoch !== pb.epoch) return pa.epoch < pb.epoch ? -1 : 1;
  const u = verrevcmp(pa.upstream, pb.upstream);
  if (u !== 0) return sign(u);
  return sign(verrevcmp(pa.revision, pb.revision));
}

export interface UpstreamVersion {
  major: number;
  minor: number;
  patch: number;
  /** -rcN; null for a release. */
  rc: number | null;
}

/** Parses "x.y", "x.y.z", "x.y-rcN", "x.y.z-rcN" (also "x.y.z~rcN" as Debian writes it). */
export function parseUpstream(s: string): UpstreamVersion | null {
  const m = /^(\d{1,9})\.(\d{1,9})(?:\.(\d{1,9}))?(?:[-~.]rc(\d{1,9}))?$/.exec(s.trim());
  if (!m) return null;
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: m[3] === undefined ? 0 : Number(m[3]),
    rc: m[4] === undefined ? null : Number(m[4]),
  };
}

export function formatUpstream(v: UpstreamVersion): string {
  return `${v.major}.${v.minor}.${v.patch}${v.rc === null ? '' : `-rc${v.rc}`}`;
}

/** Upstream kernel ordering: numeric x.y.z, and x.y.z-rcN before x.y.z (5.5.0-rc1 < 5.5.0-rc7 < 5.5.0). */
export function compareUpstream(a: string | UpstreamVersion, b: string | UpstreamVersion): Cmp {
  const pa = typeof a === 'string' ? parseUpstream(a) : a;
  const pb = typeof b === 'string' ? parseUpstream(b) : b;
  if (!pa) throw new Error(`not an upstream kernel version: ${JSON.stringify(a)}`);
  if (!pb) throw new Error(`not an upstream kernel version: ${JSON.stringify(b)}`);
  if (pa.rc === null && pb.rc === null) {
    // clean x.y.z on both sides: semver is exact here
    return sign(compare(`${pa.major}.${pa.minor}.${pa.patch}`, `${pb.major}.${pb.minor}.${pb.patch}`));
  }
  for (const k of ['major', 'minor', 'patch'] as const) {
    if (pa[k] !== pb[k]) return pa[k] < pb[k] ? -1 : 1;
  }
  if (pa.rc === pb.rc) return 0;
  if (pa.rc === null) return 1;
  if (pb.rc === null) return -1;
  return pa.rc < pb.rc ? -1 : 1;
}
