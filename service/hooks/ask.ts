// One question per disk: "should the workaround be on for this image?" Asked of the running
// service on its unix socket first (no self-test is started: selftest=never); when the socket is
// absent, refuses, errs or is slower than its bound, the same question is judged in this process
// from the stored self-test results, as `xfsguard check --selftest never` would.
import http from 'node:http';
import type { IoMode } from '../../probes/types.js';

/** The part of a decision the hooks use (the service's and the CLI's JSON are the same document). */
export interface HookDecision {
  verdict: string;
  enable_workaround: boolean;
  reasons: { code: string; detail: string }[];
}

export interface Answer {
  decision?: HookDecision;
  error?: string;
  /** Who answered: the service, or this process after the service could not (and why). */
  via: 'service' | 'local';
  fallbackWhy?: string;
}

function isDecision(v: unknown): v is HookDecision {
  const d = v as HookDecision | null;
  return d !== null && typeof d === 'object' && typeof d.verdict === 'string' && typeof d.enable_workaround === 'boolean' && Array.isArray(d.reasons);
}

/** GET /v1/decision on the unix socket; resolves to the decision or to why there is none. */
export function askService(socket: string, file: string, io: IoMode, timeoutMs: number): Promise<{ decision: HookDecision } | { unavailable: string }> {
  return new Promise((resolve) => {
    const query = new URLSearchParams({ path: file, aio: io, selftest: 'never' });
    const req = http.get({ socketPath: socket, agent: false, path: `/v1/decision?${query.toString()}`, timeout: timeoutMs, headers: { accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => resolve({ unavailable: err.message }));
      res.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
          if (res.statusCode === 200 && isDecision(body)) return resolve({ decision: body });
          const msg = (body as { message?: unknown } | null)?.message;
          resolve({ unavailable: `HTTP ${res.statusCode}${typeof msg === 'string' ? `: ${msg}` : ''}` });
        } catch {
          resolve({ unavailable: `HTTP ${res.statusCode}: not JSON` });
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ unavailable: err.code === 'ENOENT' ? 'socket absent' : err.message }));
  });
}

/** The in-process judgement, loaded only when needed (it pulls in the probes and the knowledge base). */
export async function askLocal(file: string, io: IoMode): Promise<{ decision: HookDecision } | { error: string }> {
  try {
    const [{ judge }, { loadContext }] = await Promise.all([import('../judge.js'), import('../cli/context.js')]);
    const ctx = { ...loadContext({}), warn: () => undefined };
    const { decision } = await judge({ path: file, io_mode: io, selftest: 'never' }, ctx);
    return { decision };
  } catch (err) {
    return { error: (err as Error).message.split('\n')[0] ?? 'no answer' };
  }
}

/** The service if it answers within its bound, else this process. */
export async function ask(file: string, io: IoMode, socket: string, socketTimeoutMs: number): Promise<Answer> {
  let fallbackWhy = 'no service socket configured';
  if (socket !== '') {
    const s = await askService(socket, file, io, socketTimeoutMs);
    if ('decision' in s) return { decision: s.decision, via: 'service' };
    fallbackWhy = `service: ${s.unavailable}`;
  }
  const local = await askLocal(file, io);
  return { ...local, via: 'local', fallbackWhy };
}
