// Bundles the CLI (after tsc) so that a command's start-up reads two files: the entry
// (dist/service/cli/xfsguard.js: argument dispatch and help only) and that command's own bundle
// (dist/service/cli/chunks/COMMAND/COMMAND.js), built on its own from service/cli/commands/COMMAND.ts
// with everything it imports at start-up. Code several commands share is repeated in each bundle
// (a build artefact; a shared chunk would be one more file to resolve, read and compile for every
// command). A command's own lazy import()s (zod for a malformed cache record, the in-process judge
// of a hook) stay separate chunks in its folder, loaded only when reached.
// Libraries that only compute (zod, semver, the zod type provider, jsonc-parser) are bundled; the rest
// stays in node_modules and is imported as usual, because it finds its own files at run time (pino's
// transport workers, swagger-ui's static assets, systeminformation's helpers).
// Output replaces dist/service/cli/xfsguard.js, the path package.json's bin and the units use.
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'service', 'cli');
const BUNDLED = new Set(['zod', 'semver', 'fastify-type-provider-zod', 'jsonc-parser']);
/** Packages whose modules only define things: what a command does not use is dropped (jsonc-parser's formatter builds 200 KB of indent strings at load). */
const SIDE_EFFECT_FREE = new Set(['jsonc-parser']);
const COMMANDS = readdirSync(path.join(root, 'service', 'cli', 'commands'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -'.ts'.length));

const packageOf = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

/** Every bare import is external unless its package is in BUNDLED. */
const externalPackages = {
  name: 'external-packages',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { external: true };
      const name = packageOf(args.path);
      return BUNDLED.has(name) ? undefined : { path: args.path, external: true };
    });
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.sideEffectFree) return undefined;
      const bare = /^[^./]/.test(args.path);
      const name = bare ? packageOf(args.path) : args.importer.includes('/node_modules/') ? packageOf(args.importer.split('/node_modules/').pop()) : '';
      if (!SIDE_EFFECT_FREE.has(name)) return undefined;
      const r = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { sideEffectFree: true } });
      return { ...r, sideEffects: false };
    });
  },
};

/**
 * Modules loaded with import() that get a bundle of their own, each in one place for every command:
 * the entry's commands (main.ts), the zod schema of a self-test record, read only when a stored
 * record is not plainly well formed (zod core is 400+ KB: one copy, not one per command), and the
 * policy file's reader. Their classes are copies of their own: errors crossing over are told by name.
 * Source file -> its bundle, relative to dist/service/cli/.
 */
const APART = {
  ...Object.fromEntries(COMMANDS.map((name) => [`service/cli/commands/${name}.ts`, `chunks/${name}/${name}.js`])),
  'probes/selftest-schema.ts': 'chunks/shared/selftest-schema.js',
  // the policy file's reader: `check` and `explain` load its first steps (jsonc-parser's visitor) only
  // when there is a file, and its zod/mini schema only when the file is not plainly well-formed
  'policies/policy-file-read.ts': 'chunks/shared/policy-file-read.js',
  'policies/policy-file.ts': 'chunks/shared/policy-file.js',
};

/** An import() of a module in APART loads its bundle, from a bundle written to `fromDir`. */
const apart = (fromDir) => ({
  name: 'apart',
  setup(build) {
    build.onResolve({ filter: /^\./ }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const source = path.relative(root, path.resolve(args.resolveDir, args.path)).replace(/\.js$/, '.ts');
      const bundle = APART[source];
      if (bundle === undefined) return undefined;
      const rel = path.relative(path.join(outdir, fromDir), path.join(outdir, bundle));
      return { path: rel.startsWith('.') ? rel : `./${rel}`, external: true };
    });
  },
});

const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  legalComments: 'linked',
  // jsonc-parser's main is a UMD build of seven files; its ESM build bundles into one tree-shaken piece
  mainFields: ['module', 'main'],
  logLevel: 'warning',
};

/**
 * Files bundled on their own first, tree-shaken, and then used as plain JS: a shared chunk holds a
 * whole module's union of uses, so `check` reading the policy through zod/mini would otherwise load
 * the zod core its lazily loaded self-test record schema needs (400+ KB). The cost is a second small
 * zod copy in the commands that load both.
 */
const SELF_CONTAINED = ['policies/policy-file-schema.ts'];
const selfContained = {
  name: 'self-contained',
  setup(build) {
    const files = new Set(SELF_CONTAINED.map((f) => path.join(root, f)));
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (!files.has(args.path)) return undefined;
      const r = await esbuild.build({ ...common, entryPoints: [args.path], write: false, legalComments: 'none', plugins: [externalPackages] });
      return { contents: r.outputFiles[0].text, loader: 'js', resolveDir: path.dirname(args.path) };
    });
  },
};

// semver is CommonJS: its bundled require() calls need a require in ESM output.
const banner = { js: "import { createRequire as __xfsguardRequire } from 'node:module'; const require = __xfsguardRequire(import.meta.url);" };
rmSync(path.join(outdir, 'chunks'), { recursive: true, force: true });
const metas = [];
metas.push(await esbuild.build({
  ...common,
  entryPoints: { xfsguard: 'service/cli/xfsguard.ts' },
  outdir,
  plugins: [apart('.'), externalPackages],
  metafile: true,
}));
for (const [source, bundle] of Object.entries(APART)) {
  metas.push(await esbuild.build({
    ...common,
    entryPoints: { [path.basename(bundle, '.js')]: source },
    outdir: path.join(outdir, path.dirname(bundle)),
    chunkNames: '[name]-[hash]',
    // a command's other import()s (a hook's in-process judge) stay lazy, as chunks beside it
    splitting: true,
    // fastify names plugins (in its errors and logs) after their functions: keep the names there
    keepNames: source.endsWith('/serve.ts'),
    banner,
    plugins: [selfContained, apart(path.dirname(bundle)), externalPackages],
    metafile: true,
  }));
}
if (process.env.XFSGUARD_BUNDLE_META !== undefined) {
  const outputs = Object.assign({}, ...metas.map((m) => m.metafile.outputs));
  writeFileSync(process.env.XFSGUARD_BUNDLE_META, JSON.stringify({ outputs }));
}
