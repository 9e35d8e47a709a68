// The access rules `xfsguard serve` starts with: the TCP bearer token (only when TCP is on), the
// socket group from the group database, and SO_PEERCRED from the native addon.
import { readFileSync } from 'node:fs';
import { loadPeerCred } from '../../native/peercred.js';
import type { AuthConfig, SocketGroup } from '../http/auth.js';
import { readTokenFile } from './api-token.js';

export class SocketGroupError extends Error {
  override name = 'SocketGroupError';
}

/** name:password:ID:members lines of /etc/group or /etc/passwd-like files. */
function colonRecords(file: string): string[][] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split(':'));
  } catch {
    return [];
  }
}

export function lookupGroup(name: string, groupFile = '/etc/group'): SocketGroup {
  const rec = colonRecords(groupFile).find((f) => f[0] === name);
  if (rec === undefined || !/^[0-9]+$/.test(rec[2] ?? '')) throw new SocketGroupError(`--socket-group: no group ${JSON.stringify(name)} in ${groupFile}`);
  return { name, gid: Number(rec[2]), members: (rec[3] ?? '').split(',').filter((m) => m !== '') };
}

export function userNameLookup(passwdFile = '/etc/passwd'): (uid: number) => string | null {
  const names = new Map<number, string>();
  for (const f of colonRecords(passwdFile)) if (/^[0-9]+$/.test(f[2] ?? '')) names.set(Number(f[2]), f[0]!);
  return (uid) => names.get(uid) ?? null;
}

export function serveAuth(opts: { tcp: boolean; tokenFile: string; socketGroup: string | undefined }, warn: (m: string) => void = () => undefined): AuthConfig {
  const tcpToken = opts.tcp ? readTokenFile(opts.tokenFile) : null;
  const socketGroup = opts.socketGroup !== undefined ? lookupGroup(opts.socketGroup) : null;
  const peer = loadPeerCred();
  if (peer instanceof Error) warn(`peer credentials cannot be checked (${peer.message}): the socket's mode 0660 is the only guard`);
  return { tcpToken, socketGroup, peerCredentials: peer instanceof Error ? null : peer, userName: userNameLookup() };
}
