// Finds and loads the native addon with node-gyp-build: a local build (build/Release, made by the
// node-gyp fallback at install or by a developer) first, else the prebuilt N-API binary shipped in
// prebuilds/linux-x64/ (made by `npm run prebuild`). It only loads; native/index.ts checks the ABI.
import { createRequire } from 'node:module';

type NodeGypBuild = ((dir: string) => unknown) & { resolve(dir: string): string };

const require = createRequire(import.meta.url);

/** The addon file node-gyp-build would load from packageRoot; throws when there is none. */
export function resolveAddon(packageRoot: string): string {
  return (require('node-gyp-build') as NodeGypBuild).resolve(packageRoot);
}

/** Loads the addon for packageRoot; the error says which file failed, or that none was found. */
export function loadAddon(packageRoot: string): unknown {
  let file: string;
  try {
    file = resolveAddon(packageRoot);
  } catch (err) {
    throw new Error(`no build/Release addon and no prebuilt one for this platform under ${packageRoot} (${(err as Error).message.split('\n')[0]})`, { cause: err });
  }
  try {
    return require(file);
  } catch (err) {
    // A dlopen failure names the missing library or symbol version (e.g. GLIBC_2.33 on an old host).
    throw new Error(`${file} does not load here: ${(err as Error).message}`, { cause: err });
  }
}
