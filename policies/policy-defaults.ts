// The policy's built-in defaults and path normalisation: what every reader of the policy needs,
// without the file's schema (zod) or its parser (a `check` without a policy file loads neither).
import path from 'node:path';

/**
 * Default allowed roots: the usual VM image directories — libvirt's default storage pool, OpenStack Nova's
 * instance directory, KubeVirt's host-disk/data directory, the conventional /srv/vm and Proxmox VE's /var/lib/vz. Operators with images
 * elsewhere add their directories in the policy file.
 */
export const DEFAULT_ALLOWED_ROOTS: readonly string[] = ['/var/lib/libvirt/images', '/var/lib/nova/instances', '/var/lib/kubevirt', '/srv/vm', '/var/lib/vz'];
export const DEFAULT_TRUST_SELFTEST_MIN_ITERATIONS = 100;

/** Collapses duplicate and trailing slashes and . / .. components (purely lexical; no symlink resolution). */
export function normalizePath(p: string): string {
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}
