// Kernel release parsing (uname -r, plus uname -v and /proc/version_signature where they help) and the
// knowledge-base lookup that turns a parsed release into affected / fixed / not_present / unknown.
import { STREAM_PARSERS, setUpstream } from './kernel-release-streams.js';
import type { ParseOptions, ParsedKernelRelease } from './kernel-release-types.js';
import type { UpstreamVersion } from './vercmp.js';

export type { KernelStream, ParseOptions, ParsedKernelRelease } from './kernel-release-types.js';

/** Longer version numbers are not kernel versions (and would lose precision as numbers). */
const MAX_COMPONENT_DIGITS = 9;

function emptyParse(release: string): ParsedKernelRelease {
  return {
    release,
    upstream: null,
    upstream_string: null,
    rc: null,
    upstream_exact: true,
    stream: 'unknown',
    distro_release: null,
    package_version: null,
    flavour: null,
    arch: null,
    vendor: null,
    notes: [],
  };
}

/**
 * Parses a kernel release. Recognised streams: mainline (x.y[.0][-rcN]), stable (x.y.z, z>0), el7–el10
 * (RHEL and rebuilds), elrepo, fedora, ubuntu, debian (incl. backports), suse; anything else with a readable
 * x.y.z is `custom`, and a release without one is `unknown`.
 */
export function parseKernelRelease(release: string, opts: ParseOptions = {}): ParsedKernelRelease {
  const out = emptyParse(release.trim());
  const head = /^(\d+)\.(\d+)(?:\.(\d+))?(.*)$/.exec(out.release);
  if (!head) {
    out.notes.push('release does not start with an x.y version');
    return out;
  }
  if (head.slice(1, 4).some((n) => n !== undefined && n.length > MAX_COMPONENT_DIGITS)) {
    // 5.4.999…9 is no kernel: a number past 2^53 would compare wrongly, so it is not read at all
    out.notes.push(`a version component longer than ${MAX_COMPONENT_DIGITS} digits: not a kernel version`);
    return out;
  }
  const base: UpstreamVersion = { major: Number(head[1]), minor: Number(head[2]), patch: head[3] === undefined ? 0 : Number(head[3]), rc: null };
  setUpstream(out, base);
  const input = { out, base, rest: head[4] ?? '', version: opts.version ?? null, signature: opts.signature ?? null };
  STREAM_PARSERS.some((parse) => parse(input));
  return out;
}

export { kernelStatus, type KernelStatus, type KernelStatusValue } from './kernel-status.js';
