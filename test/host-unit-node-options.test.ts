// The V8 heap limits the API unit sets through NODE_OPTIONS (issue 11.3): only options Node allows
// there (an option it refuses would keep the service from starting), in force in the process, and
// kept by `xfsguard install`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderUnit } from '../service/host/installer.js';
import { UNIT_FILE, unitNodeOptions } from './bench/unit-node-options.js';

const MiB = 1024 * 1024;

test('the unit sets the old-space limit and the semi-space size, and nothing Node refuses in NODE_OPTIONS', () => {
  const opts = unitNodeOptions();
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

test('xfsguard install keeps the line', () => {
  const line = readFileSync(UNIT_FILE, 'utf8').split('\n').find((l) => l.startsWith('Environment="NODE_OPTIONS='));
  assert.ok(line);
  assert.ok(renderUnit(readFileSync(UNIT_FILE, 'utf8'), '/usr/bin/xfsguard', ['/srv/vm']).split('\n').includes(line));
});
