// Waits until a spawned `xfsguard serve` is READY (GET /readyz 200 on its socket), not merely
// listening: the socket exists before the kernel probe and stored self-tests are loaded, and a
// request in between is answered 503 "not ready".
import http from 'node:http';

export function getOnSocket(socket: string, url: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ socketPath: socket, path: url, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** True once /readyz answers 200 within timeoutMs; false if it never does. */
export async function waitServeReady(socket: string, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ready = await getOnSocket(socket, '/readyz').then((r) => r.code === 200, () => false);
    if (ready) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
