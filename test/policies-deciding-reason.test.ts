import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide } from '../policies/decide.js';
import { decidingReason } from '../policies/deciding-reason.js';
import { renderSummary } from '../policies/explain.js';
import { input, policy, selftest } from './policies-fixtures.js';

test('the deciding reason: the self-test over the facts listed after it; an override over all', () => {
  const r = (code: string) => ({ code, detail: code });
  const affected = { verdict: 'affected', enable_workaround: true, reasons: [r('filesystem_xfs'), r('selftest_reproduced'), r('io_mode_exposed')] };
  assert.equal(decidingReason(affected)?.code, 'selftest_reproduced');
  const byKernel = { verdict: 'affected', enable_workaround: true, reasons: [r('filesystem_xfs'), r('kernel_no_fix_known'), r('selftest_none'), r('io_mode_exposed')] };
  assert.equal(decidingReason(byKernel)?.code, 'kernel_no_fix_known');
  const notExposed = { verdict: 'not_affected', enable_workaround: false, reasons: [r('filesystem_xfs'), r('selftest_reproduced'), r('io_mode_not_exposed')] };
  assert.equal(decidingReason(notExposed)?.code, 'io_mode_not_exposed');
  const unknown = { verdict: 'unknown', enable_workaround: true, reasons: [r('filesystem_xfs'), r('kernel_unknown'), r('selftest_clean_not_proof'), r('policy_conservative'), r('io_mode_exposed')] };
  assert.equal(decidingReason(unknown)?.code, 'policy_conservative');
  const overridden = { ...affected, enable_workaround: false, reasons: [...affected.reasons, r('policy_override_disable')] };
  assert.equal(decidingReason(overridden)?.code, 'policy_override_disable');
  assert.equal(decidingReason({ verdict: 'fixed', reasons: [] }), null);
});

test('the deciding reason of real decisions: the self-test when it decided, not the table it overruled or agreed with', () => {
  // fixed by version only (a belief) + a clean self-test that agrees: the self-test decided
  const corroborated = decide(input({ release: '6.1.192-xfsrace', selftest: selftest('not_reproduced') }));
  assert.equal(corroborated.verdict, 'fixed');
  assert.equal(decidingReason(corroborated)?.code, 'selftest_corroborates_belief');
  assert.match(renderSummary(corroborated), /why: the table's fixed rests on a belief/);
  // trust-selftest: the clean iterations decided
  const trusted = decide(input({ release: '4.19.0-xfsrace', selftest: selftest('not_reproduced', {}, '4.19.0-xfsrace'), policy: policy({ mode: 'trust-selftest' }) }));
  assert.equal(decidingReason(trusted)?.code, 'selftest_trusted');
  // a belief alone: unknown, and that is why
  const belief = decide(input({ release: '6.1.192-xfsrace' }));
  assert.equal(belief.verdict, 'unknown');
  assert.equal(decidingReason(belief)?.code, 'kernel_belief_not_enough');
  // reproduced, but the VM uses aio=threads: the I/O mode decided
  const threads = decide(input({ release: '5.10.200', selftest: selftest('reproduced', {}, '5.10.200'), io_mode: 'threads' }));
  assert.equal(threads.verdict, 'not_affected');
  assert.equal(decidingReason(threads)?.code, 'io_mode_not_exposed');
  // a self-test whose device did not answer: unknown because of that, not the table
  const timedOut = decide(input({ release: '5.10.200', selftest: selftest('unsupported', { timeout: { deadline_ms: 5000, message: 'no answer' } }, '5.10.200') }));
  assert.equal(timedOut.verdict, 'unknown');
  assert.equal(decidingReason(timedOut)?.code, 'selftest_timed_out');
});
