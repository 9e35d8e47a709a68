// A recording peer of the service's GET /v1/decision on a real unix socket, answering per path so
// every verdict a hook must handle can be shown: paths containing "native" or "root" are affected,
// "unknown" unknown, "broken" a 500, "slow" never answered; everything else fixed. Reasons are
// listed as decide() lists them: the deciding one is not the last.
import http from 'node:http';

export interface Asked {
  path: string;
  aio: string | null;
  selftest: string | null;
}

export interface DecisionPeer {
  asked: Asked[];
  close(): void;
}

const reasons = (decider: { code: string; detail: string }) => [
  { code: 'filesystem_xfs', detail: 'on local XFS' }, decider, { code: 'io_mode_exposed', detail: 'aio=native submits asynchronous O_DIRECT writes: exposed' },
];

export async function startDecisionPeer(socketPath: string): Promise<DecisionPeer> {
  const asked: Asked[] = [];
  const server = http.createServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const p = q.get('path') ?? '';
    asked.push({ path: p, aio: q.get('aio'), selftest: q.get('selftest') });
    const send = (code: number, body: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (p.includes('slow')) return;
    if (p.includes('broken')) return send(500, { code: 'internal', message: 'boom' });
    if (p.includes('unknown')) return send(200, { verdict: 'unknown', enable_workaround: true, reasons: reasons({ code: 'kernel_unknown', detail: 'nothing is known about this kernel' }) });
    if (/native|root/.test(p)) return send(200, { verdict: 'affected', enable_workaround: true, reasons: reasons({ code: 'selftest_reproduced', detail: 'the race was reproduced on this filesystem' }) });
    send(200, { verdict: 'fixed', enable_workaround: false, reasons: reasons({ code: 'kernel_fixed_upstream', detail: 'fixed' }) });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    asked,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
