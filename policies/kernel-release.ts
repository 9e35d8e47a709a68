// Kernel release parsing (uname -r, plus uname -v and /proc/version_signature where they help) and the
// knowledge-base lookup that turns a parsed release into affected / fixed / not_present / unknown.
import type { KbConfidence, KbRuleStatus, KbStreamRule, KnowledgeBase } from './knowledge-base-schema.js';
import { STREAM_PARSERS, setUpstream } from './kernel-release-streams.js';
import type { ParseOptions, ParsedKernelRelease } from './kernel-release-types.js';
import { compareUpstream, dpkgVercmp, rpmEvrCmp, type UpstreamVersion } from './vercmp.js';

export type { KernelStream, ParseOptions, ParsedKernelRelease } from './kernel-release-types.js';

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
  const base: UpstreamVersion = { major: Number(head[1]), minor: Number(head[2]), patch: head[3] === undefined ? 0 : Number(head[3]), rc: null };
  setUpstream(out, base);
  const input = { out, base, rest: head[4] ?? '', version: opts.version ?? null, signature: opts.signature ?? null };
  STREAM_PARSERS.some((parse) => parse(input));
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
