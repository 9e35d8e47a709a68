// Node Feature Discovery "local" feature file: node-level labels a Kubernetes scheduler (KubeVirt)
// can select on. NFD reads every file in features.d/ (hidden files ignored), one `name=value` a
// line; `# +expiry-time=RFC3339` makes NFD drop the labels when xfsguard stops refreshing them.
import { writeFileAtomic } from '../../probes/selftest-cache.js';
import type { Verdict } from '../../policies/decide.js';

export const DEFAULT_NFD_FILE = '/etc/kubernetes/node-feature-discovery/features.d/xfsguard';
export const NFD_LABEL_PREFIX = 'xfsguard.io';
export const NFD_RACE_LABEL = `${NFD_LABEL_PREFIX}/xfs-aio-fallocate-race`;
export const NFD_WORKAROUND_LABEL = `${NFD_LABEL_PREFIX}/workaround-needed`;
/** The boot check runs once per boot; labels outlive a day without reboot by an hour of slack. */
export const NFD_EXPIRY_MS = 25 * 3600 * 1000;

/** Worst first: one affected root makes the node affected; unknown is never read as "no". */
const SEVERITY: readonly Verdict[] = ['affected', 'unknown', 'fixed', 'not_affected'];

/** The node-level verdict: the worst over the judged roots (none judged: unknown). */
export function nodeVerdict(verdicts: readonly Verdict[]): Verdict {
  for (const v of SEVERITY) if (verdicts.includes(v)) return v;
  return 'unknown';
}

// Kubernetes label syntax (k8s.io/apimachinery/pkg/util/validation).
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function isValidLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (slash !== -1) {
    const prefix = key.slice(0, slash);
    if (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)) return false;
  }
  return name.length > 0 && name.length <= 63 && QUALIFIED_NAME.test(name);
}

export function isValidLabelValue(value: string): boolean {
  return value === '' || (value.length <= 63 && QUALIFIED_NAME.test(value));
}

export interface NfdInput {
  verdict: Verdict;
  workaround_needed: boolean;
  now: Date;
}

/** The feature file text. Throws if a label would be invalid (a programming error, not input). */
export function renderNfdFeatures(input: NfdInput, expiryMs = NFD_EXPIRY_MS): string {
  const expiry = new Date(input.now.getTime() + expiryMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const labels: [string, string][] = [
    [NFD_RACE_LABEL, input.verdict],
    [NFD_WORKAROUND_LABEL, String(input.workaround_needed)],
  ];
  for (const [k, v] of labels) {
    if (!isValidLabelKey(k) || !isValidLabelValue(v)) throw new Error(`invalid Kubernetes label ${k}=${v}`);
  }
  return [
    '# Written by xfsguard boot-check; do not edit (rewritten at every boot check).',
    `# +expiry-time=${expiry}`,
    ...labels.map(([k, v]) => `${k}=${v}`),
    '',
  ].join('\n');
}

/** Written as a hidden temp file in the same directory and renamed: NFD never reads half a file. */
export async function writeNfdFile(file: string, input: NfdInput): Promise<void> {
  await writeFileAtomic(file, renderNfdFeatures(input), 0o644);
}
