// Decision work runs in bounded batches per event-loop turn, so the loop reads sockets between them.
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { test } from 'node:test';
import { Turns } from '../service/http/turns.js';

test('at most perTurn pieces of work run per event-loop turn, in arrival order; below that nothing waits', async () => {
  const turns = new Turns(2);
  const ran: number[] = [];
  const all = [1, 2, 3, 4, 5].map((i) => turns.next().then(() => ran.push(i)));
  await Promise.resolve();
  assert.deepEqual(ran, [1, 2], 'the first two run at once');
  await nextTurn();
  assert.deepEqual(ran, [1, 2, 3, 4]);
  await nextTurn();
  assert.deepEqual(ran, [1, 2, 3, 4, 5]);
  await Promise.all(all);
  // idle again: a new piece of work does not wait for a turn
  await nextTurn();
  await nextTurn();
  let later = false;
  const p = turns.next().then(() => (later = true));
  await Promise.resolve();
  assert.equal(later, true);
  await p;
});
