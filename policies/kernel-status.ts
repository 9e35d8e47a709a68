// The knowledge-base lookup: a parsed kernel release against the bug's ordered stream rules gives
// affected / fixed / not_present / unknown, with the rule, its sources and the comparison made.
import type { KbComparator, KbConfidence, KbRuleStatus, KbStreamRule, KnowledgeBase } from './knowledge-base-schema.js';
import type { ParsedKernelRelease } from './kernel-release-types.js';
import { compareUpstream, dpkgVercmp, rpmEvrCmp, type Cmp, type UpstreamVersion } from './vercmp.js';

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

/** Ubuntu's ABI number: from the package version (5.4.0-55.61 → 55) when known, else from the release (5.4.0-55-generic). */
function ubuntuAbi(p: ParsedKernelRelease): string | null {
  const fromPackage = p.package_version === null ? null : /^\d+\.\d+\.\d+-(\d+)\./.exec(p.package_version);
  if (fromPackage) return fromPackage[1]!;
  return p.distro_release !== null && /^\d+$/.test(p.distro_release) ? p.distro_release : null;
}

/** The kernel's version as `comparator` reads it, or why there is none. */
function versionFor(p: ParsedKernelRelease, comparator: KbComparator, needsExact: boolean): { current: string } | { why: string } {
  switch (comparator) {
    case 'upstream':
      if (p.upstream_string === null) return { why: 'no upstream version' };
      if (needsExact && !p.upstream_exact) return { why: 'the upstream patch level is not known (no package version / version signature)' };
      return { current: p.upstream_string };
    case 'rpm':
      return p.upstream_string === null || p.distro_release === null ? { why: 'no rpm version-release' } : { current: `${p.upstream_string}-${p.distro_release}` };
    case 'dpkg':
      return p.package_version === null ? { why: 'no Debian/Ubuntu package version' } : { current: p.package_version };
    case 'abi': {
      const abi = ubuntuAbi(p);
      return abi === null ? { why: 'no Ubuntu ABI number' } : { current: abi };
    }
  }
}

const numericCmp = (a: string, b: string): Cmp => {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
};

function compareBy(comparator: KbComparator, a: string, b: string): Cmp {
  if (comparator === 'upstream') return compareUpstream(a, b);
  if (comparator === 'rpm') return rpmEvrCmp(a, b);
  if (comparator === 'dpkg') return dpkgVercmp(a, b);
  return numericCmp(a, b);
}

function inUpstreamRange(p: ParsedKernelRelease, r: KbStreamRule): boolean {
  if (p.upstream === null) return r.upstream_from === undefined && r.upstream_below === undefined;
  const v: UpstreamVersion = { ...p.upstream, rc: p.rc };
  if (r.upstream_from !== undefined && compareUpstream(v, r.upstream_from) < 0) return false;
  if (r.upstream_below !== undefined && compareUpstream(v, r.upstream_below) >= 0) return false;
  return true;
}

/** A rule with version_from/version_below matches only a kernel whose version by its comparator is in range. */
function inVersionRange(p: ParsedKernelRelease, r: KbStreamRule): boolean {
  if (r.version_from === undefined && r.version_below === undefined) return true;
  const v = versionFor(p, r.comparator!, r.needs_exact_upstream === true);
  if (!('current' in v)) return false;
  if (r.version_from !== undefined && compareBy(r.comparator!, v.current, r.version_from) < 0) return false;
  if (r.version_below !== undefined && compareBy(r.comparator!, v.current, r.version_below) >= 0) return false;
  return true;
}

function whenHolds(p: ParsedKernelRelease, r: KbStreamRule): boolean {
  const w = r.when;
  if (w === undefined) return true;
  if (w.flavours !== undefined && (p.flavour === null || !w.flavours.includes(p.flavour))) return false;
  if (w.vendors !== undefined && (p.vendor === null || !w.vendors.includes(p.vendor))) return false;
  if (w.exact_upstream !== undefined && w.exact_upstream !== p.upstream_exact) return false;
  return true;
}

export function ruleMatches(p: ParsedKernelRelease, r: KbStreamRule): boolean {
  return r.streams.includes(p.stream) && inUpstreamRange(p, r) && whenHolds(p, r) && inVersionRange(p, r);
}

function fixedFrom(p: ParsedKernelRelease, rule: KbStreamRule, base: Omit<KernelStatus, 'status'>): KernelStatus {
  const first = rule.first_fixed!;
  const v = versionFor(p, rule.comparator!, rule.needs_exact_upstream === true);
  if (!('current' in v)) return { ...base, status: 'unknown', confidence: 'verified', comparison: `cannot compare with ${first}: ${v.why}` };
  const cmp = compareBy(rule.comparator!, v.current, first);
  const comparison = `${v.current} ${cmp < 0 ? '<' : cmp > 0 ? '>' : '='} ${first} (${rule.comparator})`;
  return { ...base, status: cmp >= 0 ? 'fixed' : 'affected', comparison };
}

const STATUS_OF: Record<Exclude<KbRuleStatus, 'fixed_from'>, KernelStatusValue> = {
  fixed: 'fixed',
  no_fix_known: 'affected',
  not_present: 'not_present',
  unknown: 'unknown',
};

/** Looks the kernel up in the bug's stream rules. A release the tables do not know is `unknown`. */
export function kernelStatus(parsed: ParsedKernelRelease, kb: KnowledgeBase, bugId: string): KernelStatus {
  const bug = kb.bugs.find((b) => b.id === bugId);
  if (!bug) throw new Error(`knowledge base ${kb.revision} has no bug ${JSON.stringify(bugId)}`);
  const rule = bug.streams.find((r) => ruleMatches(parsed, r));
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
  if (rule.status === 'fixed_from') return fixedFrom(parsed, rule, base);
  return { ...base, status: STATUS_OF[rule.status] };
}
