// What `xfsguard check` loads at start-up (issue 11: the CLI answers within 1.5x a bare `node -e 0`).
// Counted, not timed: the files of ours it reads and the Node built-ins it pulls in, from inside a
// real run of the built CLI (a preload records every module it resolves and the built-ins it loaded).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DEFAULT_POLICY_PATH } from '../policies/operator-policy.js';
import { CLI, REPO_ROOT } from './helpers/run-cli.js';

const work = mkdtempSync(path.join('/var/tmp', 'xfsguard-startup-'));
after(() => rmSync(work, { recursive: true, force: true }));

// Runs in the CLI's process: module.register's resolve hook (in the loader thread) appends each
// resolved URL to a file; at exit the process writes the built-ins it loaded.
const hooks = path.join(work, 'hooks.mjs');
writeFileSync(hooks, `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.STARTUP_URLS, r.url + '\\n');
  return r;
}
`);
const preload = path.join(work, 'preload.mjs');
writeFileSync(preload, `import { register } from 'node:module';
import { writeFileSync } from 'node:fs';
register(${JSON.stringify(pathToFileURL(hooks).href)});
process.on('exit', () => writeFileSync(process.env.STARTUP_BUILTINS, process.moduleLoadList.join('\\n')));
`);

function traced(args: string[], env: NodeJS.ProcessEnv): { urls: string[]; builtins: string[]; status: number | null; stderr: string } {
  const urls = path.join(work, 'urls.txt');
  const builtins = path.join(work, 'builtins.txt');
  writeFileSync(urls, '');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(preload).href, CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env, STARTUP_URLS: urls, STARTUP_BUILTINS: builtins },
    timeout: 60_000,
  });
  return { urls: readFileSync(urls, 'utf8').split('\n').filter(Boolean), builtins: readFileSync(builtins, 'utf8').split('\n'), status: r.status, stderr: r.stderr };
}

const dist = pathToFileURL(path.join(REPO_ROOT, 'dist')).href;
const ours = (urls: string[]) => [...new Set(urls.filter((u) => u.startsWith(dist)).map((u) => u.slice(dist.length + 1)))].sort();

for (const withPolicy of [false, true]) {
  test(`check from a stored answer reads ${withPolicy ? 'three files of ours (one the policy reader)' : 'two files of ours'} and no node:crypto, http or zod core (${withPolicy ? 'with' : 'without'} a policy file)`, () => {
    const state = mkdtempSync(path.join(work, 'state-'));
    const env: NodeJS.ProcessEnv = { XFSGUARD_STATE_DIR: state, XFSGUARD_POLICY: withPolicy ? path.join(work, 'policy.json') : path.join(work, 'none', 'policy.json') };
    if (withPolicy) writeFileSync(env.XFSGUARD_POLICY!, JSON.stringify({ mode: 'conservative', allowed_roots: [work] }));
    else env.XFSGUARD_POLICY = undefined;
    // the first run fills the state directory (QEMU versions; on XFS, the self-test)
    spawnSync(process.execPath, [CLI, 'check', work], { env: { ...process.env, ...env }, timeout: 120_000 });
    const t = traced(['check', '--selftest', 'never', work], env);
    assert.ok(t.status === 0 || t.status === 10 || t.status === 11, t.stderr);
    // the policy file's first steps (jsonc-parser) only when there is a policy file; its zod schema not for a plain one
    // (without XFSGUARD_POLICY the default file is read when this machine has one: an installed host)
    const policyReader = withPolicy || existsSync(DEFAULT_POLICY_PATH) ? ['service/cli/chunks/shared/policy-file-read.js'] : [];
    assert.deepEqual(ours(t.urls), ['service/cli/chunks/check/check.js', ...policyReader, 'service/cli/xfsguard.js']);
    for (const heavy of ['NativeModule crypto', 'NativeModule http', 'NativeModule child_process']) {
      assert.ok(!t.builtins.includes(heavy), `${heavy} loaded: ${t.builtins.filter((b) => !b.startsWith('Internal')).slice(-40).join(', ')}`);
    }
  });
}

test('help and --version load no command bundle', () => {
  const t = traced(['--version'], {});
  assert.equal(t.status, 0, t.stderr);
  assert.deepEqual(ours(t.urls), ['service/cli/xfsguard.js']);
});
