// Random bytes and UUIDs read from /dev/urandom (probes/random-bytes.ts): the format crypto.randomUUID()
// has, never the same bytes twice, any length.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytes, randomUUID } from '../probes/random-bytes.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('randomUUID: version 4, RFC variant, lower-case hex, unique', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const id = randomUUID();
    assert.match(id, UUID_V4);
    ids.add(id);
  }
  assert.equal(ids.size, 5000);
});

test('randomBytes: the length asked for, a fresh copy each time, also past one block', () => {
  for (const n of [0, 1, 6, 16, 1023, 1024, 1025, 5000]) assert.equal(randomBytes(n).length, n);
  const a = randomBytes(32);
  const b = randomBytes(32);
  assert.notDeepEqual(a, b);
  a.fill(0);
  assert.notDeepEqual(randomBytes(32), Buffer.alloc(32));
  // not all one value: 4 KB of zeros or of one byte would mean no randomness at all
  assert.ok(new Set(randomBytes(4096)).size > 200);
});
