// Prometheus node_exporter textfile-collector output (DIR/xfsguard.prom), written atomically (the
// collector reads only *.prom files, so the hidden temp file is never scraped half written).
// Names and types agree with the service's /metrics: a family means the same in both.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../probes/selftest-cache.js';
import type { BootCheckReport } from './boot-check.js';

export const TEXTFILE_NAME = 'xfsguard.prom';

/**
 * node_exporter's textfile directories as distributions set them up, tried in order when no
 * --textfile is given: Debian/Ubuntu prometheus-node-exporter, then Fedora/EPEL's package.
 */
export const KNOWN_TEXTFILE_DIRS: readonly string[] = ['/var/lib/prometheus/node-exporter', '/var/lib/node_exporter/textfile_collector'];

/** The first known textfile directory that exists, or null (then no textfile is written). */
export function detectTextfileDir(exists: (dir: string) => boolean = existsSync, dirs: readonly string[] = KNOWN_TEXTFILE_DIRS): string | null {
  return dirs.find((d) => exists(d)) ?? null;
}

/** A label value per the text exposition format: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(pairs: Record<string, string>): string {
  const inner = Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
    .join(',');
  return inner.length === 0 ? '' : `{${inner}}`;
}

interface Family {
  name: string;
  help: string;
  samples: string[];
}

function family(name: string, help: string): Family {
  return { name, help, samples: [] };
}

function add(f: Family, pairs: Record<string, string>, value: number): void {
  f.samples.push(`${f.name}${labels(pairs)} ${Number.isFinite(value) ? String(value) : 'NaN'}`);
}

/** The metrics text for one boot check. Every family is a gauge; a family with no sample is omitted. */
export function renderTextfile(report: BootCheckReport): string {
  const needed = family('xfsguard_workaround_needed', 'Whether QEMU\'s XFS fallocate vs AIO+DIO workaround is needed for images under the root (1) or not (0), by verdict.');
  const judged = family('xfsguard_root_judged', 'Whether the root could be judged (1) or was missing or failed (0), by status.');
  const reproduced = family('xfsguard_selftest_reproduced', 'Whether the boot self-test reproduced the race on the root\'s filesystem (1), did not (0); absent when it could not run.');
  const supported = family('xfsguard_selftest_supported', 'Whether the boot self-test could run on the root\'s filesystem (1) or not (0).');
  const duration = family('xfsguard_selftest_duration_seconds', 'Wall time of the boot self-test on the root\'s filesystem.');
  const nodeNeeded = family('xfsguard_node_workaround_needed', 'Node level: whether any root needs the workaround (unknown counts as needed), by node verdict.');
  const stamp = family('xfsguard_boot_check_timestamp_seconds', 'When the boot check finished (Unix time); alert when it is old.');
  const took = family('xfsguard_boot_check_duration_seconds', 'Wall time of the whole boot check.');
  const images = family('xfsguard_root_image_files', 'VM image files found under the root (bounded walk; a lower bound when truncated).');
  const build = family('xfsguard_build_info', 'Always 1: the xfsguard version and knowledge-base revision that wrote these metrics.');

  for (const r of report.roots) {
    add(judged, { root: r.root, status: r.status }, r.status === 'judged' ? 1 : 0);
    if (r.verdict !== null) add(needed, { root: r.root, verdict: r.verdict }, r.enable_workaround === true ? 1 : 0);
    const st = r.selftest;
    if (st !== null) {
      const l = { root: r.root, device: st.device };
      add(supported, l, st.outcome === 'unsupported' ? 0 : 1);
      if (st.outcome !== 'unsupported') add(reproduced, l, st.outcome === 'reproduced' ? 1 : 0);
      add(duration, l, st.duration_ms / 1000);
    }
    if (r.image_files !== null && r.image_files !== undefined) add(images, { root: r.root }, r.image_files);
  }
  add(build, { version: report.xfsguard_version ?? 'unknown', knowledge_base_revision: report.knowledge_base_revision ?? 'unknown' }, 1);
  add(nodeNeeded, { verdict: report.node.verdict }, report.node.enable_workaround ? 1 : 0);
  add(stamp, {}, Math.floor(Date.parse(report.finished_at) / 1000));
  add(took, {}, report.duration_ms / 1000);

  return [build, needed, judged, images, reproduced, supported, duration, nodeNeeded, stamp, took]
    .filter((f) => f.samples.length > 0)
    .map((f) => [`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${f.name} gauge`, ...f.samples].join('\n'))
    .join('\n')
    .concat('\n');
}

export async function writeTextfile(dir: string, report: BootCheckReport): Promise<string> {
  const file = path.join(dir, TEXTFILE_NAME);
  await writeFileAtomic(file, renderTextfile(report), 0o644);
  return file;
}
