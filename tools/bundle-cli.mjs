// Bundles the CLI (after tsc) so that start-up reads a handful of files, not dozens: one entry
// file, one chunk per command (main.ts loads commands with import()), shared chunks for what
// several commands use. Libraries that only compute (zod, semver, the zod type provider, jsonc-parser) are
// bundled; the rest stays in node_modules and is imported as usual, because it finds its own files
// at run time (pino's transport workers, swagger-ui's static assets, systeminformation's helpers).
// Output replaces dist/service/cli/xfsguard.js, the path package.json's bin and the units use.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'service', 'cli');
const BUNDLED = new Set(['zod', 'semver', 'fastify-type-provider-zod', 'jsonc-parser']);

/** Every bare import is external unless its package is in BUNDLED. */
const externalPackages = {
  name: 'external-packages',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { external: true };
      const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
      return BUNDLED.has(name) ? undefined : { path: args.path, external: true };
    });
  },
};

/**
 * Files bundled on their own first, tree-shaken, and then used as plain JS: a shared chunk holds a
 * whole module's union of uses across commands, so `check` reading the policy through zod/mini would
 * otherwise load the zod core `serve` needs (400+ KB). The cost is a second small zod copy in `serve`.
 */
const SELF_CONTAINED = ['policies/policy-file-schema.ts'];
const selfContained = {
  name: 'self-contained',
  setup(build) {
    const files = new Set(SELF_CONTAINED.map((f) => path.join(root, f)));
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (!files.has(args.path)) return undefined;
      const r = await esbuild.build({
        absWorkingDir: root, entryPoints: [args.path], bundle: true, write: false, format: 'esm', platform: 'node',
        target: 'node20', minify: true, keepNames: true, legalComments: 'none', logLevel: 'warning',
      });
      return { contents: r.outputFiles[0].text, loader: 'js', resolveDir: path.dirname(args.path) };
    });
  },
};

rmSync(path.join(outdir, 'chunks'), { recursive: true, force: true });
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { xfsguard: 'service/cli/xfsguard.ts' },
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  keepNames: true,
  legalComments: 'linked',
  // jsonc-parser's main is a UMD build of seven files; its ESM build bundles into one tree-shaken piece
  mainFields: ['module', 'main'],
  plugins: [selfContained, externalPackages],
  // semver is CommonJS: its bundled require() calls need a require in ESM output.
  banner: { js: "import { createRequire as __xfsguardRequire } from 'node:module'; const require = __xfsguardRequire(import.meta.url);" },
  logLevel: "warning",
  metafile: process.env.XFSGUARD_BUNDLE_META !== undefined,
});
if (result.metafile) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(process.env.XFSGUARD_BUNDLE_META, JSON.stringify(result.metafile));
}
