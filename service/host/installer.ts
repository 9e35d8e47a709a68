// `xfsguard install` / `uninstall`: a plan of file operations (computed, printed with --dry-run),
// then applied. Idempotent: a file whose content is already right is left alone; the operator's
// policy is never overwritten; uninstall removes only what install wrote unless --purge.
import { existsSync, readFileSync } from 'node:fs';
import { chmod, readFile, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_POLICY_PATH, PolicyError } from '../../policies/operator-policy.js';
import { loadPolicy } from '../../policies/policy-file.js';
import { DEFAULT_STATE_DIR, writeFileAtomic } from '../../probes/selftest-cache.js';
import { PACKAGE_ROOT } from '../package-info.js';

/** The unit files install writes. */
export const UNIT_NAMES = ['xfsguard-boot.service', 'xfsguard.service', 'xfsguard-refresh.service', 'xfsguard-refresh.timer'] as const;
/** The units to enable: the refresh service is started by its timer, not enabled itself. */
export const ENABLE_UNITS = ['xfsguard-boot.service', 'xfsguard.service', 'xfsguard-refresh.timer'] as const;
/** Vendor units, as a distro package installs them; /etc/systemd/system stays the operator's (overrides, drop-ins). */
export const UNIT_DIR = '/usr/lib/systemd/system';
/** Where earlier versions wrote the units: removed when ours, since they would shadow the vendor ones. */
export const LEGACY_UNIT_DIR = '/etc/systemd/system';
/** The first line of a unit install writes. */
export const UNIT_MARKER = '# Written by xfsguard install; override with a drop-in in /etc/systemd/system/<unit>.d/, not here.';
/** Where a staged (--root) install expects node and the package on the target: npm's global layout under PREFIX. */
export const TARGET_NODE = '/usr/bin/node';
export function targetPackageDir(prefix: string): string {
  return path.posix.join(prefix, 'lib', 'node_modules', 'xfsguard');
}
/** libvirt >= 6.5 runs every file in qemu.d/: no competing for /etc/libvirt/hooks/qemu. */
export const LIBVIRT_HOOK_PATH = '/etc/libvirt/hooks/qemu.d/50-xfsguard';
/** Where earlier versions installed the hook: removed when it is ours. */
export const LEGACY_LIBVIRT_HOOK_PATH = '/etc/libvirt/hooks/qemu';
/** Marks files install wrote, so uninstall never removes someone else's. */
export const WRAPPER_MARKER = '# xfsguard command wrapper (written by xfsguard install)';
export const HOOK_MARKER = 'xfsguard libvirt hook';

export interface InstallOptions {
  /** Staging root (DESTDIR): every path below is written under it; "/" for a real install. */
  root: string;
  /** Where the command goes: PREFIX/bin/xfsguard. */
  prefix: string;
  /** The package whose templates are installed (this one). */
  packageRoot?: string;
  /** The node binary and the package the wrapper runs, as paths on the target system (default: these). */
  nodePath?: string;
  packageDir?: string;
  /** Where the units go (default UNIT_DIR). */
  unitDir?: string;
  /** Also install the libvirt hook (never over a hook that is not ours). */
  libvirtHook?: boolean;
}

export type Step =
  | {
      op: 'write';
      path: string;
      mode: number;
      content: string;
      why: string;
      /** Never replace an existing file (the operator's policy). */
      keepExisting?: boolean;
      /** Replace an existing file only when it carries this marker (ours); otherwise keep it. */
      replaceOnlyIfContains?: string;
    }
  | { op: 'remove'; path: string; why: string; onlyIfContains?: string; /** Not listed when there was nothing to remove. */ quietIfAbsent?: boolean }
  | { op: 'remove-tree'; path: string; why: string };

export interface StepResult {
  step: Step;
  /** done; unchanged (already right); kept (exists and must not be overwritten / is not ours); absent. */
  status: 'done' | 'unchanged' | 'kept' | 'absent';
  /** The real path acted on (under the staging root). */
  target: string;
}

/** Single-quotes a word for POSIX sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** One systemd path word: specifiers escaped, quoted when it has spaces or quotes. */
function unitPathWord(p: string, prefix = ''): string {
  const escaped = p.replace(/%/g, '%%').replace(/\\/g, '\\\\');
  return /[\s"']/.test(escaped) ? `"${prefix}${escaped.replace(/"/g, '\\"')}"` : `${prefix}${escaped}`;
}

export function commandPath(prefix: string): string {
  return path.posix.join(prefix, 'bin', 'xfsguard');
}

export function cliEntry(packageRoot: string): string {
  return path.join(packageRoot, 'dist', 'service', 'cli', 'xfsguard.js');
}

export function renderWrapper(nodePath: string, packageRoot: string): string {
  return `#!/bin/sh\n${WRAPPER_MARKER}\n# Runs the built CLI of the package at ${packageRoot}\nexec ${shQuote(nodePath)} ${shQuote(cliEntry(packageRoot))} "$@"\n`;
}

/**
 * A unit file from the template in service/systemd/, with ExecStart= on the installed command and,
 * where the template lists the default roots, the policy's allowed roots instead.
 */
export function renderUnit(template: string, command: string, allowedRoots: readonly string[]): string {
  const lines: string[] = [];
  let rwDone = false;
  const within = (dirs: readonly string[]) => allowedRoots.some((r) => dirs.some((d) => r === d || r.startsWith(`${d}/`)));
  // The self-test writes its scratch file in the root: ProtectHome= would hide a root under
  // /home, /root or /run/user, and PrivateTmp= would swap a root under /tmp or /var/tmp for an
  // empty private directory (ReadWritePaths= cannot reopen either).
  const homeRoot = within(['/home', '/root', '/run/user']);
  const tmpRoot = within(['/tmp', '/var/tmp']);
  for (const line of template.split('\n')) {
    const exec = /^ExecStart=\S+(.*)$/.exec(line);
    if (exec !== null) lines.push(`ExecStart=${unitPathWord(command)}${exec[1] ?? ''}`);
    else if (homeRoot && /^ProtectHome=/.test(line)) lines.push('# ProtectHome=yes: off, an allowed root is under /home, /root or /run/user', 'ProtectHome=no');
    else if (tmpRoot && /^PrivateTmp=/.test(line)) lines.push('# PrivateTmp=yes: off, an allowed root is under /tmp or /var/tmp', 'PrivateTmp=no');
    else if (line.startsWith('RequiresMountsFor=')) {
      if (allowedRoots.length > 0) lines.push(`RequiresMountsFor=${allowedRoots.map((r) => unitPathWord(r)).join(' ')}`);
    } else if (line.startsWith('ReadWritePaths=-')) {
      // '-': a root that does not exist must not keep the service from starting.
      if (!rwDone) lines.push(...allowedRoots.map((r) => `ReadWritePaths=${unitPathWord(r, '-')}`));
      rwDone = true;
    } else lines.push(line);
  }
  return lines.join('\n');
}

function under(root: string, p: string): string {
  return path.join(root, p);
}

/** The allowed roots the units should name: the existing policy's, else the default policy file's. */
export function rootsForUnits(root: string, packageRoot: string): string[] {
  const existing = under(root, DEFAULT_POLICY_PATH);
  try {
    return loadPolicy(existsSync(existing) ? existing : path.join(packageRoot, 'service', 'systemd', 'policy.json'), { mustExist: true }).allowed_roots;
  } catch (err) {
    if (err instanceof PolicyError) throw new Error(`cannot read the allowed roots for the units: ${err.message}`, { cause: err });
    throw err;
  }
}

export function planInstall(opts: InstallOptions): Step[] {
  const pkg = opts.packageRoot ?? PACKAGE_ROOT;
  const nodePath = opts.nodePath ?? process.execPath;
  const command = commandPath(opts.prefix);
  const roots = rootsForUnits(opts.root, pkg);
  const systemdDir = path.join(pkg, 'service', 'systemd');
  const unitDir = opts.unitDir ?? UNIT_DIR;
  const steps: Step[] = [
    { op: 'write', path: command, mode: 0o755, content: renderWrapper(nodePath, opts.packageDir ?? pkg), why: 'the xfsguard command', replaceOnlyIfContains: WRAPPER_MARKER },
    ...UNIT_NAMES.flatMap((name): Step[] => {
      const template = readFileSync(path.join(systemdDir, name), 'utf8');
      const write: Step = {
        op: 'write', path: path.posix.join(unitDir, name), mode: 0o644,
        content: `${UNIT_MARKER}\n${renderUnit(template, command, roots)}`, why: 'systemd unit',
      };
      return unitDir === LEGACY_UNIT_DIR ? [write] : [legacyUnitRemoval(name, template), write];
    }),
    {
      op: 'write', path: DEFAULT_POLICY_PATH, mode: 0o644, content: readFileSync(path.join(systemdDir, 'policy.json'), 'utf8'),
      why: 'default operator policy', keepExisting: true,
    },
  ];
  if (opts.libvirtHook === true) {
    // A replacer function: a '$' in a path must not be read as a replacement pattern ($&, $').
    const hook = readFileSync(path.join(pkg, 'service', 'hooks', 'libvirt-qemu'), 'utf8').replace(/^xfsguard_default=.*$/m, () => `xfsguard_default=${shQuote(command)}`);
    steps.push({ op: 'remove', path: LEGACY_LIBVIRT_HOOK_PATH, why: 'libvirt hook of an earlier xfsguard', onlyIfContains: HOOK_MARKER });
    steps.push({ op: 'write', path: LIBVIRT_HOOK_PATH, mode: 0o755, content: hook, why: 'libvirt hook (restart libvirtd to activate)', replaceOnlyIfContains: HOOK_MARKER });
  }
  return steps;
}

/** An earlier install's unit in /etc/systemd/system (it starts with the template's first line), which would shadow ours. */
function legacyUnitRemoval(name: string, template: string): Step {
  return { op: 'remove', path: path.posix.join(LEGACY_UNIT_DIR, name), why: 'unit of an earlier xfsguard (shadows the vendor one)', onlyIfContains: template.split('\n')[0] ?? UNIT_MARKER, quietIfAbsent: true };
}

export function planUninstall(opts: { root: string; prefix: string; purge: boolean; stateDir?: string; unitDir?: string; packageRoot?: string }): Step[] {
  const unitDir = opts.unitDir ?? UNIT_DIR;
  const systemdDir = path.join(opts.packageRoot ?? PACKAGE_ROOT, 'service', 'systemd');
  const steps: Step[] = [
    ...UNIT_NAMES.map((name): Step => ({ op: 'remove', path: path.posix.join(unitDir, name), why: 'systemd unit', onlyIfContains: UNIT_MARKER })),
    ...UNIT_NAMES.filter(() => unitDir !== LEGACY_UNIT_DIR).map((name) => legacyUnitRemoval(name, readFileSync(path.join(systemdDir, name), 'utf8'))),
    { op: 'remove', path: commandPath(opts.prefix), why: 'the xfsguard command', onlyIfContains: WRAPPER_MARKER },
    { op: 'remove', path: LIBVIRT_HOOK_PATH, why: 'libvirt hook', onlyIfContains: HOOK_MARKER },
    { op: 'remove', path: LEGACY_LIBVIRT_HOOK_PATH, why: 'libvirt hook of an earlier xfsguard', onlyIfContains: HOOK_MARKER },
  ];
  if (opts.purge) {
    steps.push({ op: 'remove-tree', path: path.posix.dirname(DEFAULT_POLICY_PATH), why: 'policy and hook configuration (--purge)' });
    steps.push({ op: 'remove-tree', path: opts.stateDir ?? DEFAULT_STATE_DIR, why: 'state directory (--purge)' });
  }
  return steps;
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Applies the steps in order (or only inspects them, dryRun) and says what each did or would do. */
export async function applySteps(root: string, steps: readonly Step[], dryRun: boolean): Promise<StepResult[]> {
  const out: StepResult[] = [];
  for (const step of steps) {
    const target = under(root, step.path);
    const current = step.op === 'remove-tree' ? null : await readIfExists(target);
    let status: StepResult['status'];
    if (step.op === 'write') {
      if (current !== null && step.keepExisting === true) status = 'kept';
      else if (current !== null && step.replaceOnlyIfContains !== undefined && !current.includes(step.replaceOnlyIfContains)) status = 'kept';
      else if (current === step.content && ((await stat(target)).mode & 0o7777) === step.mode) status = 'unchanged';
      else {
        status = 'done';
        if (!dryRun) {
          await writeFileAtomic(target, step.content, step.mode);
          await chmod(target, step.mode); // the umask may have narrowed it
        }
      }
    } else if (step.op === 'remove') {
      if (current === null) status = 'absent';
      else if (step.onlyIfContains !== undefined && !current.includes(step.onlyIfContains)) status = 'kept';
      else {
        status = 'done';
        if (!dryRun) await rm(target, { force: true });
      }
    } else {
      status = existsSync(target) ? 'done' : 'absent';
      if (status === 'done' && !dryRun) await rm(target, { recursive: true, force: true });
    }
    out.push({ step, status, target });
  }
  return out;
}

/** Removes the directories install created when they are left empty (staging roots stay tidy). */
export async function pruneEmptyDirs(root: string, dirs: readonly string[]): Promise<void> {
  for (const d of dirs) {
    try {
      await rmdir(under(root, d));
    } catch {
      // not empty or not there
    }
  }
}

export function renderResults(results: readonly StepResult[], dryRun: boolean): string {
  const verb = (r: StepResult): string => {
    const { step, status } = r;
    if (status === 'unchanged') return 'unchanged';
    if (status === 'absent') return 'not present';
    if (status === 'kept') return step.op === 'write' ? 'kept (exists; not overwritten)' : 'kept (not written by xfsguard)';
    const act = step.op === 'write' ? 'write' : 'remove';
    return dryRun ? `would ${act}` : `${act === 'write' ? 'written' : 'removed'}`;
  };
  return results.filter((r) => !(r.status === 'absent' && r.step.op === 'remove' && r.step.quietIfAbsent === true)).map((r) => `  ${verb(r).padEnd(30)} ${r.target}  (${r.step.why})`).join('\n');
}

/** Is systemd running as PID 1 (sd_booted)? */
export function systemdIsRunning(): boolean {
  return existsSync('/run/systemd/system');
}

