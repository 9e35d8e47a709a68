// `xfsguard libvirt-hook DOMAIN OPERATION SUB-OPERATION EXTRA` with the domain XML on stdin: what
// libvirt's qemu hook runs (through the sh shim service/hooks/libvirt-qemu). At "prepare" it asks
// about every exposed disk; every other operation exits 0 at once, printing nothing (a failing
// "reconnect" kills running VMs; "migrate"/"restore" read stdout as XML).
import { cannotJudge, checkStart, guarded, REFUSE, type DiskQuestion, type Unresolved } from '../../hooks/check-disks.js';
import { loadHookConfig, type HookConfig } from '../../hooks/hook-config.js';
import { HookLog } from '../../hooks/hook-log.js';
import { domainDisks } from '../../libvirt/domain-xml.js';
import { resolveVolume } from '../../libvirt/storage-pool.js';
import type { CommandIo } from '../command.js';

export const help = `Usage: xfsguard libvirt-hook DOMAIN OPERATION SUB-OPERATION EXTRA < domain.xml

Run by libvirt's qemu hook (installed by 'xfsguard install --libvirt-hook' as
/etc/libvirt/hooks/qemu.d/50-xfsguard). At OPERATION "prepare" it asks about every writable disk
opened with O_DIRECT (cache=none|directsync) and io=native|io_uring: file disks, and volume disks
of directory pools (resolved through the pool's target path). It asks the running service on its
unix socket and judges in this process when the service does not answer in time. Other
operations exit 0 at once.

Settings (/etc/xfsguard/hook.conf KEY=VALUE, or environment XFSGUARD_HOOK_KEY):
  MODE=log|enforce          log (default) only logs; enforce refuses the start
  REFUSE_ON=affected        verdicts that refuse in enforce mode (comma list: affected,unknown)
  ON_ERROR=allow|refuse     in enforce mode, when xfsguard cannot answer or the XML is unreadable
  TIMEOUT_MS=15000          bound on the whole check
  SOCKET=/run/xfsguard/xfsguard.sock   the service ("" = always judge in this process)
  SOCKET_TIMEOUT_MS=2000    a slower service answer is given up for the in-process judgement
  VERBOSE=1                 also log the disks not asked about, and why
  LOG_FILE=PATH             also append the log lines to PATH (hosts without syslog)

Exit codes: 0 start; ${REFUSE} refuse (the shim turns it into 1); anything else is the shim's to
ignore.`;

const MAX_XML = 16 * 1024 * 1024;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_XML) throw new Error('domain XML larger than 16 MiB');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Domain XML -> the questions to ask, resolving volume disks through their pools. */
async function questions(xml: string, conf: HookConfig, log: HookLog, label: string): Promise<{ disks: DiskQuestion[]; unresolved: Unresolved[] }> {
  const parsed = domainDisks(xml);
  const disks: DiskQuestion[] = [];
  const unresolved: Unresolved[] = [];
  const skipped = [...parsed.skipped];
  for (const d of parsed.exposed) {
    if (d.kind === 'file') {
      disks.push({ target: d.target, io: d.io, file: d.file });
      continue;
    }
    const r = await resolveVolume(d.pool, d.volume, { ...(conf.poolDirs !== null ? { poolDirs: conf.poolDirs } : {}), timeoutMs: Math.min(3000, conf.timeoutMs) });
    if ('file' in r) disks.push({ target: d.target, io: d.io, file: r.file });
    else if ('skip' in r) skipped.push(`${d.target}: ${r.skip}`);
    else unresolved.push({ what: `disk ${d.target} (volume ${d.volume} in pool ${d.pool})`, why: r.error });
  }
  if (conf.verbose && skipped.length > 0) log.log('info', `${label}: not checked: ${skipped.join(', ')}`);
  return { disks, unresolved };
}

export async function run(argv: string[], _io: CommandIo): Promise<number> {
  const [domain = '?', operation = ''] = argv;
  if (operation !== 'prepare') return 0;
  const conf = loadHookConfig();
  const log = new HookLog(conf.syslog, conf.logFile);
  const label = `domain ${domain}`;
  return guarded(label, conf, log, async () => {
    let xml: string;
    let q: { disks: DiskQuestion[]; unresolved: Unresolved[] };
    try {
      xml = await readStdin();
      q = await questions(xml, conf, log, label);
    } catch (err) {
      return cannotJudge(label, conf, log, 'warning', `cannot read the domain XML (${(err as Error).message})`);
    }
    if (q.disks.length === 0 && q.unresolved.length === 0) return 0;
    return checkStart({ label, ...q }, conf, log);
  });
}
