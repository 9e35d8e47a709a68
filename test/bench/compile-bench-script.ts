// Benches run compiled code, not tsx: a bench script is bundled (our code in, packages from
// node_modules) into dist/bench/NAME.mjs.
import path from 'node:path';
import * as esbuild from 'esbuild';

export async function compileBenchScript(root: string, name: string): Promise<string> {
  const outfile = path.join(root, 'dist', 'bench', `${name}.mjs`);
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: [path.join(root, 'test', 'bench', `${name}.ts`)],
    outfile,
    bundle: true,
    packages: 'external',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  return outfile;
}
