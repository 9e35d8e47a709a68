// Runs the test files listed here, explicitly: Node 20's runner finds no .ts files by itself,
// and a run that finds no test must fail rather than pass.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const files = [
  // probes and the native self-test
  'test/probes-filesystem.test.ts',
  'test/probes-state.test.ts',
  'test/probes-selftest-record-check.test.ts',
  'test/probes-qemu.test.ts',
  'test/probes-qemu-version-cache.test.ts',
  'test/probes-random-bytes.test.ts',
  'test/policies-policy-file-plain.test.ts',
  'test/probes-host.test.ts',
  'test/native-race.test.ts',
  'test/probes-selftest-rename.test.ts',
  'test/probes-selftest-hang.test.ts',
  // the policy engine: version comparison, kernel table, decisions, policy files, knowledge base
  'test/policies-vercmp.test.ts',
  'test/policies-kernel.test.ts',
  'test/policies-decide.test.ts',
  'test/policies-deciding-reason.test.ts',
  'test/policies-policy-file.test.ts',
  'test/policies-knowledge-base.test.ts',
  'test/policies-engine-rule.test.ts',
  'test/policies-remedies.test.ts',
  'test/policies-qemu-exposure.test.ts',
  'test/policies-cli-input.test.ts',
  'test/policies-what-if.test.ts',
  // the CLI, spawned as users run it
  'test/cli.test.ts',
  'test/cli-startup.test.ts',
  'test/cli-compile-cache.test.ts',
  // the HTTP service: inject, real listeners, a real XFS
  'test/service-app.test.ts',
  'test/service-metrics.test.ts',
  'test/service-openapi.test.ts',
  'test/service-docs-ui.test.ts',
  'test/service-journal.test.ts',
  'test/service-kubevirt.test.ts',
  'test/service-turns.test.ts',
  'test/service-decision-memo.test.ts',
  'test/service-listen.test.ts',
  'test/service-xfs.test.ts',
  'test/service-vs-cli.test.ts',
  'test/service-qemu.test.ts',
  // security: hostile paths and special files, at the CLI and the service (issue 8)
  'test/security-paths.test.ts',
  'test/security-files.test.ts',
  'test/security-root-symlinks.test.ts',
  'test/service-auth.test.ts',
  'test/service-tls.test.ts',
  // host integration: boot check, node outputs, systemd units, installer, libvirt hook
  'test/host-outputs.test.ts',
  'test/host-monitoring.test.ts',
  'test/host-systemd.test.ts',
  'test/host-unit-environment.test.ts',
  'test/host-install.test.ts',
  'test/libvirt-domain-xml.test.ts',
  'test/host-hook.test.ts',
  'test/host-proxmox-hook.test.ts',
  'test/host-libvirt.test.ts',
  // the package: tarball contents, glibc symbol versions, a compiler-less global install
  'test/package-pack.test.ts',
  'test/package-glibc.test.ts',
  'test/package-install.test.ts',
  'test/package-deprecation.test.ts',
  // real kernels in the test VMs (../shared/vm)
  'test/host-vm.test.ts',
  'test/vm-race.test.ts',
  'test/vm-cli.test.ts',
  'test/vm-systemd.test.ts',
  'test/vm-qemu.test.ts',
];

// FILTER selects files containing it; !FILTER leaves them out (`'!vm'`: all but the VM suites).
const only = process.argv.slice(2).filter((a) => !a.startsWith('!'));
const except = process.argv.slice(2).filter((a) => a.startsWith('!')).map((a) => a.slice(1));
const selected = (only.length > 0 ? files.filter((f) => only.some((o) => f.includes(o))) : files).filter((f) => !except.some((e) => f.includes(e)));
const missing = selected.filter((f) => !existsSync(path.join(root, f)));
if (missing.length > 0) {
  console.error(`test files listed but missing: ${missing.join(', ')}`);
  process.exit(1);
}
if (selected.length === 0) {
  console.error('no test files selected: refusing to report success for zero tests');
  process.exit(1);
}
// The CLI tests spawn the built command, as users run it: build it first.
// From scratch: output of a source file since removed would otherwise linger (and ship).
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
const build = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
// ... and bundle it as `npm run build:ts` does (tools/bundle-cli.mjs), so the tests spawn what ships.
const bundle = build.status === 0 ? spawnSync(process.execPath, [path.join(root, 'tools/bundle-cli.mjs')], { cwd: root, stdio: 'inherit' }) : build;
if (build.status !== 0 || bundle.status !== 0) {
  console.error('the TypeScript build failed');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...selected], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
