// The environment the API unit sets for a lean resident set (issue 11.3): V8 heap limits through
// NODE_OPTIONS, only options Node allows there (an option it refuses would keep the service from
// starting) and in force in the process; MALLOC_ARENA_MAX; both kept by `xfsguard install`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderUnit } from '../service/host/installer.js';
import { UNIT_FILE, unitEnvironment } from './bench/unit-environment.js';

const MiB = 1024 * 1024;

test('the unit sets the old-space limit and the semi-space size, and nothing Node refuses in NODE_OPTIONS', () => {
  const opts = (unitEnvironment().NODE_OPTIONS ?? '').split(' ').filter((w) => w !== '');
  const names = opts.map((o) => o.split('=')[0]);
  assert.deepEqual([...names].sort(), ['--max-old-space-size', '--max-semi-space-size']);
  const r = spawnSync(process.execPath, ['-p', 'JSON.stringify(require("v8").getHeapStatistics())'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: opts.join(' ') } });
  assert.equal(r.status, 0, r.stderr);
  const oldMiB = Number(opts.find((o) => o.startsWith('--max-old-space-size='))!.split('=')[1]);
  const semiMiB = Number(opts.find((o) => o.startsWith('--max-semi-space-size='))!.split('=')[1]);
  // heap_size_limit is the old-space limit plus the young generation (a few semi-spaces)
  const limit = (JSON.parse(r.stdout) as { heap_size_limit: number }).heap_size_limit;
  assert.ok(limit >= oldMiB * MiB && limit <= (oldMiB + 4 * semiMiB) * MiB, `heap_size_limit ${limit / MiB} MiB`);
});

test('two malloc arenas', () => {
  assert.equal(unitEnvironment().MALLOC_ARENA_MAX, '2');
});

test('xfsguard install keeps the Environment= lines', () => {
  const template = readFileSync(UNIT_FILE, 'utf8');
  const lines = template.split('\n').filter((l) => l.startsWith('Environment='));
  assert.equal(lines.length, 2);
  const installed = renderUnit(template, '/usr/bin/xfsguard', ['/srv/vm']).split('\n');
  for (const l of lines) assert.ok(installed.includes(l), l);
});
