// A boot-check report with every kind of root, for the textfile and metrics tests.
import type { BootCheckReport } from '../../service/host/boot-check.js';

export function sampleReport(): BootCheckReport {
  const root = (r: string, verdict: 'affected' | 'unknown' | 'fixed' | null, outcome: 'reproduced' | 'unsupported' | null) => ({
    root: r, status: verdict === null ? ('missing' as const) : ('judged' as const), device: '254:0', fs_type: 'xfs', verdict,
    enable_workaround: verdict === null ? null : verdict !== 'fixed', decision_id: null, decided_at: null, reasons: [], image_files: verdict === null ? null : 1,
    selftest: outcome === null ? null : { device: '254:0', outcome, ran: true, shared_with: null, duration_ms: 1234, iterations: 10, reproductions: 0, reason: null },
    error: null,
  });
  return {
    format: 'xfsguard-boot-check', format_version: 1, started_at: '2026-11-24T10:00:00.000Z', finished_at: '2026-11-24T10:00:02.000Z',
    duration_ms: 2000, budget_ms: 60000, kernel_release: '6.1.192', boot_id: 'b', xfsguard_version: '0.1.0', knowledge_base_revision: '2026-11-24.2',
    policy_source: 'x', state_dir: '/var/lib/xfsguard', node: { verdict: 'affected', enable_workaround: true },
    roots: [root('/srv/vm "q"\\b\nn', 'affected', 'reproduced'), root('/var/lib/libvirt/images', 'fixed', 'unsupported'), root('/gone', null, null)],
    outputs: { state: { path: null, written: false, note: null }, nfd: { path: null, written: false, note: null }, textfile: { path: null, written: false, note: null } },
  };
}
