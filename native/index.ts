// Typed loader for the native self-test addon (build/Release/xfsguard_native.node).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAddon } from './load-addon.js';
import type { OpenDirectoryResult, RaceOptions, RaceResult } from './types.js';

export type * from './types.js';

/** The ABI this loader was written against; the addon exports the same integer as `abi_version`. */
export const NATIVE_ABI_VERSION = 1;

export interface SdNotifyResult {
  sent: boolean;
  /** null when sent, or when NOTIFY_SOCKET is unset; otherwise "<ERRNO>: …". */
  error: string | null;
}

export interface NativeBinding {
  /** One engine × one fallocate mode. Resolves with kernel refusals as data; rejects only for bad options. */
  runRace(opts: RaceOptions): Promise<RaceResult>;
  /** Opens an absolute directory path once, refusing any symlink on it (O_PATH fd; close it with fs.closeSync). */
  openDirectory(path: string): OpenDirectoryResult;
  /** Sends `state` as one datagram to $NOTIFY_SOCKET (systemd Type=notify). */
  sdNotify(state: string): SdNotifyResult;
  abi_version: number;
}

export class NativeUnavailableError extends Error {
  override readonly name = 'NativeUnavailableError';
  readonly addonPath: string;
  constructor(addonPath: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(`native addon not built: run \`npm rebuild\` (or \`npm run install\`) in the package root to build ${addonPath} (${detail})`, {
      cause,
    });
    this.addonPath = addonPath;
  }
}

/** The folder holding package.json, walking up from this module (native/ under tsx, dist/native/ when built). */
export function packageRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
}

let cached: NativeBinding | undefined;

function isBinding(x: unknown): x is NativeBinding {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return typeof o.runRace === 'function' && typeof o.sdNotify === 'function' && typeof o.openDirectory === 'function';
}

/** Loads the addon once; throws NativeUnavailableError when it is missing, broken or of another ABI. */
export function loadNative(): NativeBinding {
  if (cached) return cached;
  let addonPath = 'build/Release/xfsguard_native.node';
  try {
    addonPath = path.join(packageRoot(), 'build', 'Release', 'xfsguard_native.node');
    const mod: unknown = loadAddon(packageRoot());
    if (!isBinding(mod)) throw new Error('the module does not export runRace/sdNotify/openDirectory');
    if (!Number.isInteger(mod.abi_version) || mod.abi_version !== NATIVE_ABI_VERSION) {
      throw new Error(`abi_version ${String(mod.abi_version)} does not match the loader's ${NATIVE_ABI_VERSION}: rebuild it`);
    }
    cached = mod;
    return mod;
  } catch (err) {
    if (err instanceof NativeUnavailableError) throw err;
    throw new NativeUnavailableError(addonPath, err);
  }
}
