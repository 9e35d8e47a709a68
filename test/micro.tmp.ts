import { randomUUID } from 'node:crypto';
import { decide } from '../policies/decide.js';
import { DecisionMemo } from '../service/decision-memo.js';
import { DecisionBodies } from '../service/http/decision-body.js';
import { fsFacts, input } from './policies-fixtures.js';
const memo = new DecisionMemo();
const bodies = new DecisionBodies();
const base = input({ filesystem: fsFacts('ext4') });
const N = 200000;
function bench(name: string, fn: (i: number) => unknown) {
  for (let i = 0; i < 20000; i++) fn(i);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) fn(i);
  console.log(name, ((performance.now() - t0) * 1000 / N).toFixed(3), 'µs');
}
const id = randomUUID();
const at = new Date().toISOString();
bench('memo.decide', (i) => memo.decide({ ...base, filesystem: { ...base.filesystem, free_bytes: i } }, null, () => decide(base)));
const m = memo.decide(base, null, () => decide(base));
const d = { ...m.decision, decision_id: id, decided_at: at };
bench('bodies.json', (i) => bodies.json(d, m.basis, { decision_id: id, decided_at: at, duration_ms: i / 1000, selftest_ran: false }));
bench('randomUUID', () => randomUUID());
bench('toISOString', () => new Date().toISOString());
bench('Buffer.from 2.7k str', () => Buffer.from(JSON.stringify(d)));
