// The verdict of a VM start, shared by the libvirt hook and the Proxmox hookscript: every exposed
// disk asked in parallel (service first, in-process fallback), one log line per disk naming the
// reason that decided its verdict, and in enforce mode one refusal line for libvirt/Proxmox to show.
import path from 'node:path';
import type { IoMode } from '../../probes/types.js';
import { ask, type Answer } from './ask.js';
import { decidingReason } from '../../policies/deciding-reason.js';
import type { HookConfig } from './hook-config.js';
import type { HookLog } from './hook-log.js';

/** The exit status that means "refuse the start"; the sh shims map it, and only it, to 1. */
export const REFUSE = 100;

export interface DiskQuestion {
  target: string;
  io: IoMode;
  file: string;
}

/** A disk whose image could not be located: "disk vda (volume x in pool p)" and why. */
export interface Unresolved {
  what: string;
  why: string;
}

export interface StartCheck {
  /** "domain web1", "VM 101": how the log names the guest. */
  label: string;
  disks: DiskQuestion[];
  /** Disks that could not be turned into a question (e.g. an unresolvable volume): cannot answer. */
  unresolved: Unresolved[];
}

async function answerOf(d: DiskQuestion, conf: HookConfig): Promise<Answer> {
  if (!path.posix.isAbsolute(d.file)) return { error: `${JSON.stringify(d.file)} is not an absolute path`, via: 'local' };
  return ask(d.file, d.io, conf.socket, conf.socketTimeoutMs);
}

/** Checks the disks; resolves to 0 (start) or REFUSE. */
export async function checkStart(c: StartCheck, conf: HookConfig, log: HookLog): Promise<number> {
  const enforce = conf.mode === 'enforce';
  const refusals: string[] = [];
  const cannot = (what: string, why: string): void => {
    log.log('warning', `${c.label}: ${what}: xfsguard could not answer: ${why}`);
    if (enforce && conf.onError === 'refuse') refusals.push(`${what}: xfsguard could not answer (${why})`);
  };
  for (const u of c.unresolved) cannot(u.what, u.why);
  const answers = await Promise.all(c.disks.map((d) => answerOf(d, conf)));
  answers.forEach((a, i) => {
    const d = c.disks[i] as DiskQuestion;
    const what = `disk ${d.target} (${d.file}, io=${d.io})`;
    if (a.decision === undefined) return cannot(what, a.error ?? 'no answer');
    const dec = a.decision;
    const reason = decidingReason(dec);
    const why = reason === null ? '' : `${reason.code}: ${reason.detail}`;
    const via = a.via === 'service' ? 'service' : `in-process (${a.fallbackWhy ?? ''})`;
    log.log(dec.enable_workaround ? 'warning' : 'info', `${c.label}: ${what}: verdict ${dec.verdict}, workaround ${dec.enable_workaround ? 'needed' : 'not needed'}${why ? `: ${why}` : ''} [via ${via}]`);
    if (enforce && dec.enable_workaround && conf.refuseOn.has(dec.verdict)) refusals.push(`${what}: verdict ${dec.verdict}${why ? ` (${why})` : ''}`);
  });
  if (refusals.length === 0) return 0;
  process.stderr.write(`xfsguard: refusing to start ${c.label}: XFS fallocate vs AIO+DIO race: ${refusals.join('; ')}\n`);
  return REFUSE;
}

/** The hook could not judge the start (unreadable XML, time-out, ...): allowed unless ON_ERROR=refuse in enforce mode. */
export function cannotJudge(label: string, conf: HookConfig, log: HookLog, level: 'warning' | 'err', why: string): number {
  const refuse = conf.mode === 'enforce' && conf.onError === 'refuse';
  log.log(level, `${label}: ${why}; ${refuse ? 'refused (ON_ERROR=refuse)' : 'not checked'}`);
  if (refuse) process.stderr.write(`xfsguard: refusing to start ${label}: ${why}\n`);
  return refuse ? REFUSE : 0;
}

/** Runs a hook body under the global time bound; a hook's own failure never blocks a start unless ON_ERROR=refuse says so. */
export async function guarded(label: string, conf: HookConfig, log: HookLog, body: () => Promise<number>): Promise<number> {
  // libvirt and Proxmox wait for this process: whatever a fallback judgement left behind (timers,
  // sockets, a stuck self-test child) must not hold it past the bound.
  setTimeout(() => process.exit(process.exitCode ?? 0), conf.timeoutMs + 2000).unref();
  const fail = (level: 'warning' | 'err', why: string): number => cannotJudge(label, conf, log, level, why);
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(fail('warning', `gave up after ${conf.timeoutMs} ms`)), conf.timeoutMs);
  });
  try {
    return await Promise.race([body(), bound]);
  } catch (err) {
    return fail('err', `internal error: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
    log.flush();
  }
}
