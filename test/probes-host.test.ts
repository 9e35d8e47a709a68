import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { test } from 'node:test';
import { gatherHostFacts } from '../probes/host.js';

/** What `hostname -f` prints on this machine, or null where it fails (no resolver for the name). */
function hostnameF(): string | null {
  try {
    return execFileSync('hostname', ['-f'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.trim() || null;
  } catch {
    return null;
  }
}

test('the host name is the FQDN systeminformation tells (`hostname -f`), else the kernel name', async () => {
  const facts = await gatherHostFacts();
  const fqdn = hostnameF();
  assert.equal(facts.hostname, fqdn ?? os.hostname());
  assert.equal(facts.note, null, 'systeminformation answered in its child process');
  assert.equal(facts.arch, os.arch());
  assert.equal(facts.platform, process.platform);
  assert.equal(facts.distro, null);
});

test('a name lookup that hangs is killed at the time bound; the kernel name stands in', async () => {
  const t0 = Date.now();
  const facts = await gatherHostFacts({ command: ['sleep', '30'], timeoutMs: 300 });
  assert.ok(Date.now() - t0 < 5000, `answered after ${Date.now() - t0} ms`);
  assert.equal(facts.hostname, os.hostname());
  assert.match(facts.note ?? '', /did not answer within 300 ms/);
});

test('a command that fails or prints nothing: the kernel name, and the note says why', async () => {
  const failed = await gatherHostFacts({ command: ['false'] });
  assert.equal(failed.hostname, os.hostname());
  assert.match(failed.note ?? '', /^false failed/);
  const missing = await gatherHostFacts({ command: ['/nonexistent/hostname'] });
  assert.equal(missing.hostname, os.hostname());
  assert.match(missing.note ?? '', /ENOENT/);
  const silent = await gatherHostFacts({ command: ['true'] });
  assert.equal(silent.hostname, os.hostname());
  assert.match(silent.note ?? '', /printed no host facts/);
  const garbage = await gatherHostFacts({ command: ['echo', 'not json'] });
  assert.equal(garbage.hostname, os.hostname());
  assert.match(garbage.note ?? '', /printed no host facts/);
});
