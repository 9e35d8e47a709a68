// Who may use the API. TCP: a bearer token (any local user can connect to loopback), compared in
// constant time. The unix socket: the peer's credentials from the kernel (SO_PEERCRED) against
// root, the service's own user and a configured group. /livez and /readyz stay open: they say
// nothing but "up" and "ready", and orchestrators probe them.
import { timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './error-mapping.js';

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

export interface SocketGroup {
  name: string;
  gid: number;
  /** User names listed as members in the group database. */
  members: readonly string[];
}

export interface AuthConfig {
  /** The bearer token every TCP request must carry (null: TCP requests are refused). */
  tcpToken: string | null;
  /** Unix-socket peers allowed besides root and the service's own user (null: only those two). */
  socketGroup: SocketGroup | null;
  /** SO_PEERCRED of a connection (the native addon); null when it cannot be read. */
  peerCredentials: ((socket: Socket) => PeerCredentials | null) | null;
  /** The user name of a uid (for group membership), or null. */
  userName?: (uid: number) => string | null;
}

const OPEN_URLS = new Set(['/livez', '/readyz']);

/** A key per client for rate limits: the TCP address, or the peer's uid on the socket. */
export function clientKey(request: FastifyRequest): string {
  const socket = request.raw.socket;
  if (socket.remoteAddress !== undefined) return `ip:${socket.remoteAddress}`;
  const cred = (socket as Socket & { xfsguardPeer?: PeerCredentials | null }).xfsguardPeer;
  return cred ? `uid:${cred.uid}` : 'unix';
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer ([^\s]+)$/i.exec(header ?? '');
  if (m === null) return false;
  const given = Buffer.from(m[1]!);
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** May this unix-socket peer use the API? */
export function peerAllowed(cred: PeerCredentials, cfg: AuthConfig): boolean {
  if (cred.uid === 0 || cred.uid === process.getuid?.()) return true;
  const group = cfg.socketGroup;
  if (group === null) return false;
  if (cred.gid === group.gid) return true;
  const name = cfg.userName?.(cred.uid) ?? null;
  return name !== null && group.members.includes(name);
}

function deny(request: FastifyRequest, reply: FastifyReply, status: 401 | 403, code: string, message: string) {
  if (status === 401) void reply.header('www-authenticate', 'Bearer realm="xfsguard"');
  return reply.code(status).send(errorBody(request, status, code, message));
}

export function authHook(cfg: AuthConfig) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const url = request.url.split('?', 1)[0] ?? '/';
    if (OPEN_URLS.has(url)) return;
    const socket = request.raw.socket as Socket & { xfsguardPeer?: PeerCredentials | null };
    if (socket.remoteAddress !== undefined) {
      if (cfg.tcpToken === null) {
        await deny(request, reply, 403, 'forbidden', 'this service answers on its unix socket only');
      } else if (!tokenMatches(request.headers.authorization, cfg.tcpToken)) {
        await deny(request, reply, 401, 'unauthorized', 'a bearer token is required on TCP (Authorization: Bearer <token from the token file>)');
      }
      return;
    }
    if (cfg.peerCredentials === null) return; // file permissions (0660) are the guard then
    if (socket.xfsguardPeer === undefined) socket.xfsguardPeer = cfg.peerCredentials(socket);
    const cred = socket.xfsguardPeer;
    if (cred === null || !peerAllowed(cred, cfg)) {
      await deny(request, reply, 403, 'forbidden', 'this user may not use the service (not root and not in its group)');
    }
  };
}
