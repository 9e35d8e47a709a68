// SO_PEERCRED of a connected unix socket, through the native addon (native/src/peercred.cc).
// Node exposes no peer credentials; the fd comes from the socket's libuv handle.
import type { Socket } from 'node:net';
import { packageRoot } from './index.js';
import { loadAddon } from './load-addon.js';

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

type PeerCredFn = (fd: number) => Partial<PeerCredentials> & { error?: string };

/** The addon's peerCred, or an Error saying why it is not there (an older build). */
export function loadPeerCred(): ((socket: Socket) => PeerCredentials | null) | Error {
  let fn: unknown;
  try {
    fn = (loadAddon(packageRoot()) as { peerCred?: unknown }).peerCred;
  } catch (err) {
    return err as Error;
  }
  if (typeof fn !== 'function') return new Error('the native addon has no peerCred: rebuild it (npm rebuild)');
  const peerCred = fn as PeerCredFn;
  return (socket) => {
    const fd = (socket as Socket & { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) return null;
    const r = peerCred(fd);
    return r.error === undefined && typeof r.uid === 'number' && typeof r.gid === 'number' && typeof r.pid === 'number' ? { pid: r.pid, uid: r.uid, gid: r.gid } : null;
  };
}
