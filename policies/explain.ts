// Human renderings of a Decision: the evidence chain (xfsguard explain) and the short summary (xfsguard check).
import { exitCodeFor, type Decision } from './decide.js';
import { decidingReason } from './deciding-reason.js';
import { renderRemedies } from './remedies.js';

const FS_CODES = /^filesystem_/;
const KERNEL_CODES = /^kernel_/;
const SELFTEST_CODES = /^selftest_/;
const IO_CODES = /^io_mode_/;
const POLICY_CODES = /^policy_/;

function verdictLine(d: Decision): string {
  const what =
    d.verdict === 'affected'
      ? 'affected'
      : d.verdict === 'fixed'
        ? 'fixed'
        : d.verdict === 'not_affected'
          ? 'not affected'
          : 'unknown (cannot be ruled out)';
  return `${what}, confidence ${d.confidence}`;
}

function headline(d: Decision): string {
  return d.enable_workaround ? `workaround NEEDED for ${d.path}` : `workaround not needed for ${d.path}`;
}

/** The 2–4 line output of `xfsguard check`. */
export function renderSummary(d: Decision): string {
  const fs = d.evidence.filesystem;
  const k = d.evidence.kernel;
  const st = d.evidence.selftest;
  const fsText = fs.overlay_upper ? `overlay on ${fs.overlay_upper.fs_type} (${fs.overlay_upper.fs_class})` : `${fs.fs_type} (${fs.fs_class})`;
  const stText = st === null ? 'no self-test' : `self-test ${st.report.outcome} (${st.report.iterations} iterations${d.evidence.selftest_used ? '' : ', not used'})`;
  const facts =
    `  ${fsText} at ${d.judged_directory}; kernel ${k.judged_release}${k.what_if ? ' (what-if)' : ''}: ${k.parsed.stream}, ` +
    `table ${k.status.status} (rule ${k.status.rule}); ${stText}`;
  const main = decidingReason(d)?.detail ?? null;
  const lines = [`${headline(d)}: ${verdictLine(d)} (exit ${exitCodeFor(d)})`, facts];
  if (main !== null) lines.push(`  why: ${main}`);
  const mit = d.mitigations.length > 0 ? `; mitigations: ${d.mitigations.map((m) => m.code).join(', ')} (xfsguard explain)` : '';
  lines.push(`  knowledge base ${d.provenance.knowledge_base_revision}, xfsguard ${d.provenance.xfsguard_version}${mit}`);
  return lines.join('\n');
}

function section(title: string, items: string[]): string[] {
  return [`${title}:`, ...(items.length === 0 ? ['  (nothing)'] : items.map((i) => `  ${i}`))];
}

function reasonLines(d: Decision, re: RegExp): string[] {
  return d.reasons.filter((r) => re.test(r.code)).map((r) => `[${r.code}] ${r.detail}`);
}

/** The evidence chain of `xfsguard explain`: filesystem → kernel → self-test → I/O mode → policy → verdict → mitigations. */
export function renderExplanation(d: Decision): string {
  const fs = d.evidence.filesystem;
  const k = d.evidence.kernel;
  const p = k.parsed;
  const out: string[] = [`xfsguard explain ${d.path}`, ''];

  out.push(
    ...section('Filesystem', [
      `judged directory ${d.judged_directory} (${fs.path_kind}); type ${fs.fs_type}, class ${fs.fs_class}, magic ${fs.magic_hex}, device ${fs.device}${fs.fs_uuid ? `, uuid ${fs.fs_uuid}` : ''}`,
      ...(fs.mount ? [`mounted at ${fs.mount.mount_point} from ${fs.mount.source} (${fs.mount.fs_type})`] : []),
      ...reasonLines(d, FS_CODES),
    ]),
  );
  out.push('');
  out.push(
    ...section('Kernel', [
      `release ${k.judged_release}${k.what_if ? ` (what-if; running ${k.release})` : ''}`,
      `parsed: stream ${p.stream}, upstream ${p.upstream_string ?? 'unknown'}${p.upstream_exact ? '' : ' (patch level not known)'}` +
        `${p.distro_release ? `, distro release ${p.distro_release}` : ''}${p.package_version ? `, package ${p.package_version}` : ''}` +
        `${p.flavour ? `, flavour ${p.flavour}` : ''}`,
      ...p.notes.map((n) => `note: ${n}`),
      `knowledge base: ${k.status.status} by rule ${k.status.rule} (${k.status.confidence}): ${k.status.rule_detail}`,
      ...(k.status.comparison ? [`comparison: ${k.status.comparison}`] : []),
      `source: ${k.status.source}`,
      ...reasonLines(d, KERNEL_CODES),
    ]),
  );
  out.push('');
  const st = d.evidence.selftest;
  out.push(
    ...section('Self-test', [
      ...(st === null
        ? ['none for this boot, kernel and filesystem']
        : [
            `${st.report.outcome}: ${st.report.reproductions}/${st.report.iterations} iterations reproduced, engines ${st.report.engines.join(', ') || '-'}, modes ${st.report.modes.join(', ') || '-'}, ${st.report.duration_ms} ms, at ${st.report.started_at}${st.cached ? ' (stored result)' : ''}${d.evidence.selftest_used ? '' : ' — not used'}`,
          ]),
      ...reasonLines(d, SELFTEST_CODES),
    ]),
  );
  out.push('');
  out.push(...section('I/O mode', [d.evidence.io_mode ?? 'not given', ...reasonLines(d, IO_CODES)]));
  out.push('');
  out.push(
    ...section('Policy', [
      `mode ${d.policy.mode}, from ${d.policy.source}`,
      d.policy.override ? `override ${d.policy.override.prefix}: ${d.policy.override.action} — ${d.policy.override.reason}` : 'no override matches this path',
      ...reasonLines(d, POLICY_CODES),
    ]),
  );
  out.push('');
  const decider = decidingReason(d);
  out.push(
    ...section('Verdict', [
      `${verdictLine(d)}`,
      `${headline(d)} — exit code ${exitCodeFor(d)}`,
      ...(decider ? [`decided by [${decider.code}] ${decider.detail}`] : []),
      `kernel rule ${k.status.rule} (${k.status.confidence}${k.status.comparison ? `; ${k.status.comparison}` : ''}) — source: ${k.status.source}`,
    ]),
  );
  if (d.mitigations.length > 0) {
    out.push('');
    out.push(...section('Mitigations', d.mitigations.map((m) => `[${m.code}] ${m.detail}`)));
  }
  // remedies may be absent in a decision read from an older xfsguard's JSON
  if ((d.remedies ?? []).length > 0) {
    out.push('');
    out.push(...section('Remedies (settings per platform)', renderRemedies(d.remedies)));
  }
  out.push('');
  out.push(`knowledge base revision ${d.provenance.knowledge_base_revision}, bug ${d.provenance.bug_id}, xfsguard ${d.provenance.xfsguard_version}`);
  return out.join('\n');
}
