// The hooks' settings: /etc/xfsguard/hook.conf (KEY=VALUE lines), each overridden by the
// environment variable XFSGUARD_HOOK_KEY. Unknown or malformed values fall back to the default:
// a typo in the configuration must not change whether VMs start.
import { readFileSync } from 'node:fs';

export const DEFAULT_HOOK_CONF = '/etc/xfsguard/hook.conf';
/** The service's unix socket (the same default as `xfsguard serve --socket`). */
export const DEFAULT_SERVICE_SOCKET = '/run/xfsguard/xfsguard.sock';

export interface HookConfig {
  mode: 'log' | 'enforce';
  /** Verdicts that refuse a start in enforce mode. */
  refuseOn: ReadonlySet<string>;
  /** What to do, in enforce mode, when xfsguard cannot answer (also: unreadable domain XML). */
  onError: 'allow' | 'refuse';
  /** Bound on the whole check, all disks in parallel. */
  timeoutMs: number;
  /** The service's socket; "" = do not ask the service. */
  socket: string;
  /** A slower service answer is given up for the in-process check. */
  socketTimeoutMs: number;
  verbose: boolean;
  syslog: boolean;
  /** Also append the log lines here (hosts without syslog); null: not. */
  logFile: string | null;
  /** libvirt's pool XML directories (tests point this at their own). */
  poolDirs: string[] | null;
}

export function parseConf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const m = /^\s*([A-Z_]+)\s*=\s*(.*?)\s*$/.exec(raw);
    if (m === null || raw.trimStart().startsWith('#')) continue;
    let v = m[2] as string;
    if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.at(-1) === v[0]) v = v.slice(1, -1);
    out[m[1] as string] = v;
  }
  return out;
}

function readConf(file: string): Record<string, string> {
  try {
    return parseConf(readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
}

function int(value: string, dflt: number, min: number): number {
  const n = /^[0-9]+$/.test(value) ? Number(value) : dflt;
  return Math.max(min, n);
}

export function loadHookConfig(env: NodeJS.ProcessEnv = process.env): HookConfig {
  const conf = readConf(env.XFSGUARD_HOOK_CONF ?? DEFAULT_HOOK_CONF);
  const get = (key: string, dflt: string): string => env[`XFSGUARD_HOOK_${key}`] ?? conf[key] ?? dflt;
  const pools = get('POOL_DIRS', '');
  return {
    mode: get('MODE', 'log') === 'enforce' ? 'enforce' : 'log',
    refuseOn: new Set(get('REFUSE_ON', 'affected').split(',').map((s) => s.trim()).filter((s) => s !== '')),
    onError: get('ON_ERROR', 'allow') === 'refuse' ? 'refuse' : 'allow',
    timeoutMs: int(get('TIMEOUT_MS', '15000'), 15000, 1000),
    socket: get('SOCKET', DEFAULT_SERVICE_SOCKET),
    socketTimeoutMs: int(get('SOCKET_TIMEOUT_MS', '2000'), 2000, 50),
    verbose: get('VERBOSE', '0') === '1',
    syslog: (env.XFSGUARD_HOOK_SYSLOG ?? '1') !== '0',
    logFile: get('LOG_FILE', '') === '' ? null : get('LOG_FILE', ''),
    poolDirs: pools === '' ? null : pools.split(':').filter((d) => d !== ''),
  };
}
