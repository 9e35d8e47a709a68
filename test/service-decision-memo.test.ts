// A busy service computes a decision once per change of its facts (service/decision-memo.ts) and
// writes its JSON once, splicing each request's own values in (service/http/decision-body.ts):
// every answer must still be exactly the decision decide() makes from that request's facts, and
// exactly the text the response schema writes for it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { decide, type Decision, type DecisionInput } from '../policies/decide.js';
import { DecisionMemo } from '../service/decision-memo.js';
import { DecisionBodies, schemaJson } from '../service/http/decision-body.js';
import { fsFacts, input, selftest } from './policies-fixtures.js';

function counting(memo: DecisionMemo, extra: unknown = null) {
  let computed = 0;
  return {
    get computed() {
      return computed;
    },
    decide: (i: DecisionInput) =>
      memo.decide(i, extra, () => {
        computed += 1;
        return decide(i);
      }),
  };
}

/** The input a reused probe gives: a copy of the facts sharing every nested value, with fresh free space. */
function reprobed(i: DecisionInput, freeBytes: number): DecisionInput {
  return { ...i, filesystem: { ...i.filesystem, free_bytes: freeBytes } };
}

describe('decision memo', () => {
  test('the same facts with other free space: computed once, each answer decide()\'s own for its facts', () => {
    const m = counting(new DecisionMemo());
    const first = input();
    const a = m.decide(first);
    for (const free of [1, 2 ** 40, 123456789]) {
      const i = reprobed(first, free);
      const b = m.decide(i);
      assert.equal(b.basis, a.basis, 'the same remembered decision');
      assert.deepEqual(b.decision, decide(i));
      assert.equal(b.decision.evidence.filesystem.free_bytes, free);
    }
    assert.equal(m.computed, 1);
  });

  test('any other fact that changes is a new decision: a remount, another I/O mode, a what-if kernel, another self-test', () => {
    const m = counting(new DecisionMemo());
    const base = input({ selftest: selftest('not_reproduced', {}, '6.1.192-xfsrace') });
    const a = m.decide(base);
    const changed: DecisionInput[] = [
      { ...base, filesystem: fsFacts('ext4') }, // remounted as ext4: new facts objects
      { ...base, filesystem: { ...base.filesystem, read_only: true } },
      { ...base, io_mode: 'threads' },
      { ...base, kernel_release_override: '5.4.0-42-generic' },
      { ...base, selftest: selftest('reproduced') },
      { ...base, selftest: null },
    ];
    for (const i of changed) {
      const b = m.decide(i);
      assert.deepEqual(b.decision, decide(i));
      assert.notDeepEqual(b.decision, a.decision);
    }
    assert.equal(m.computed, 1 + changed.length);
  });

  test('a stored self-test: its exact age is the request\'s; its age in seconds (printed in the reasons) is part of the facts', () => {
    const m = counting(new DecisionMemo());
    const ev = { ...selftest('not_reproduced'), cached: true, age_ms: 10_100 };
    const base = input({ selftest: ev });
    const at = (age: number): DecisionInput => ({ ...base, selftest: { ...ev, age_ms: age } });
    const a = m.decide(at(10_100));
    const b = m.decide(at(10_400));
    assert.equal(b.basis, a.basis);
    assert.deepEqual(b.decision, decide(at(10_400)));
    const c = m.decide(at(10_600));
    assert.notEqual(c.basis, a.basis, '11 s old now: other reasons');
    assert.deepEqual(c.decision, decide(at(10_600)));
    assert.equal(m.computed, 2);
  });

  test('other host QEMU facts are a new decision; the memo holds at most its size', () => {
    const memo = new DecisionMemo(2);
    const i = input();
    const a = memo.decide(i, 'qemu A', () => decide(i));
    assert.notEqual(memo.decide(i, 'qemu B', () => decide(i)).basis, a.basis);
    for (const p of ['/a', '/b', '/c']) memo.decide({ ...i, filesystem: { ...i.filesystem, requested_path: p } }, null, () => decide(i));
    let computed = 0;
    memo.decide(i, 'qemu B', () => (computed++, decide(i)));
    assert.equal(computed, 1, 'the oldest entries were dropped');
  });
});

describe('decision body', () => {
  const own = (ran = false) => ({ decision_id: randomUUID(), decided_at: new Date().toISOString(), duration_ms: Math.random() * 10, selftest_ran: ran });

  function served(bodies: DecisionBodies, d: Decision, basis: Decision, o: ReturnType<typeof own>): string {
    const id = { ...d, decision_id: o.decision_id, decided_at: o.decided_at };
    const buf = bodies.json(id, basis, o);
    assert.ok(buf !== null, 'spliced, not left to the serializer');
    return buf.toString('utf8');
  }

  for (const [name, base] of [
    ['no self-test (ext4)', input({ filesystem: fsFacts('ext4') })],
    ['a stored self-test (XFS)', input({ selftest: { ...selftest('not_reproduced'), cached: true, age_ms: 4321 } })],
    ['a reproduced one, non-ASCII reasons', input({ selftest: selftest('reproduced') })],
  ] as const) {
    test(`byte for byte the schema's text, request after request: ${name}`, () => {
      const memo = new DecisionMemo();
      const bodies = new DecisionBodies();
      for (let n = 0; n < 5; n++) {
        const i = { ...reprobed(base, 1000 + n * 4096), selftest: base.selftest === null ? null : { ...base.selftest, age_ms: base.selftest.age_ms + n } };
        const { decision, basis } = memo.decide(i, null, () => decide(i));
        const o = own(n % 2 === 0);
        assert.equal(served(bodies, decision, basis, o), schemaJson({ ...decision, ...o }));
      }
    });
  }

  test('without a remembered decision, or a value it cannot copy, the serializer writes the body', () => {
    const bodies = new DecisionBodies();
    const d = decide(input());
    const o = own();
    assert.equal(bodies.json({ ...d, ...o }, undefined, o), null);
    assert.equal(bodies.json({ ...d, ...o }, d, { ...o, duration_ms: Number.NaN }), null);
  });
});
