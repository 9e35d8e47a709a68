// The shape of a parsed kernel release, shared by the stream parsers and the knowledge-base lookup.
import type { KernelStream, KernelVendor } from './knowledge-base-schema.js';

export type { KernelStream } from './knowledge-base-schema.js';

export interface ParsedKernelRelease {
  release: string;
  /** The upstream version the kernel is based on: from the package version when known (Debian/Ubuntu), else from the release. */
  upstream: { major: number; minor: number; patch: number } | null;
  upstream_string: string | null;
  /** -rcN of a mainline release candidate. */
  rc: number | null;
  /**
   * false when the patch level is not known: Debian/Ubuntu releases carry an ABI number ("6.1.0-18",
   * "5.4.0-42") whose ".0" is not the upstream patch level; only the package version tells it.
   */
  upstream_exact: boolean;
  stream: KernelStream;
  /** The distribution part of the release: '193.28.1.el8_2', '42', '0.bpo.9', '150300.59.93'. */
  distro_release: string | null;
  /** Debian '6.1.76-1' (from uname -v) or Ubuntu '5.4.0-42.46' (from /proc/version_signature). */
  package_version: string | null;
  flavour: string | null;
  arch: string | null;
  /** A `custom` kernel recognised as a vendor build that carries the real kernel.org patch level (pve, Arch, …). */
  vendor: KernelVendor | null;
  /** How the stream was recognised, for explanations. */
  notes: string[];
}

export interface ParseOptions {
  /** uname -v */
  version?: string | null;
  /** /proc/version_signature */
  signature?: string | null;
}
