// Logs reach journald with priorities: with JOURNAL_STREAM naming the stream (as systemd sets it),
// the service's JSON lines and the CLI's warnings start with a `<N>` syslog priority; without it, not.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { isJournalStream, prefixPinoLine, priorityOfPinoLevel } from '../service/journal.js';
import { CLI, runCli } from './helpers/run-cli.js';

const work = mkdtempSync(path.join('/var/tmp', 'xfsguard-journal-'));
after(() => rmSync(work, { recursive: true, force: true }));

function streamId(fd: number): string {
  const st = fstatSync(fd, { bigint: true });
  return `${st.dev}:${st.ino}`;
}

test('pino levels map to syslog priorities; lines get the prefix', () => {
  assert.deepEqual([60, 50, 40, 30, 20, 10].map(priorityOfPinoLevel), [2, 3, 4, 6, 7, 7]);
  assert.equal(prefixPinoLine('{"level":40,"msg":"x"}\n'), '<4>{"level":40,"msg":"x"}\n');
  assert.equal(prefixPinoLine('not json'), 'not json');
});

test('JOURNAL_STREAM must name this very stream', () => {
  const fd = openSync(path.join(work, 'probe'), 'w');
  try {
    assert.equal(isJournalStream(fd, { JOURNAL_STREAM: streamId(fd) }), true);
    assert.equal(isJournalStream(fd, { JOURNAL_STREAM: '1:2' }), false);
    assert.equal(isJournalStream(fd, {}), false);
  } finally {
    closeSync(fd);
  }
});

test('serve: JSON log lines on a journal stream carry <N> prefixes (info 6, warning 4)', async () => {
  const out = path.join(work, 'serve.log');
  const fd = openSync(out, 'w');
  const policy = path.join(work, 'policy.json');
  writeFileSync(policy, JSON.stringify({ allowed_roots: [work] }));
  // a broken stored record: the service warns about it at start-up
  mkdirSync(path.join(work, 'state'), { recursive: true });
  writeFileSync(path.join(work, 'state', 'selftest-broken.json'), 'not json');
  const child = spawn(process.execPath, [CLI, 'serve', '--socket', path.join(work, 'api.sock'), '--policy', policy, '--state-dir', path.join(work, 'state')], {
    stdio: ['ignore', fd, 'pipe'],
    env: { ...process.env, JOURNAL_STREAM: streamId(fd), LOG_LEVEL: 'info' },
  });
  closeSync(fd);
  try {
    const deadline = Date.now() + 20_000;
    while (!/"msg":"ready"/.test(readFileSync(out, 'utf8')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  const ready = lines.find((l) => l.includes('"msg":"ready"'));
  assert.ok(ready !== undefined, lines.join('\n'));
  assert.match(ready, /^<6>\{"level":30,/);
  assert.ok(lines.some((l) => /^<4>\{"level":40,.*not valid JSON/.test(l)), lines.join('\n'));
  for (const l of lines) assert.match(l, /^<[2-7]>\{"level":\d+,/, l);
});

test('CLI warnings on a journal stderr carry <4>; elsewhere plain', () => {
  const policy = path.join(work, 'policy.json');
  writeFileSync(policy, JSON.stringify({ allowed_roots: [work] }));
  // a textfile directory that cannot be made: boot-check warns that it could not write it
  const errFile = path.join(work, 'stderr.log');
  const fd = openSync(errFile, 'w');
  const notDir = path.join(work, 'file-not-dir');
  writeFileSync(notDir, '');
  const args = ['boot-check', '--policy', policy, '--state-dir', path.join(work, 'bc-state'), '--nfd-file', 'off', '--textfile', path.join(notDir, 'prom'), '--selftest', 'auto'];
  const r = runCli(args, { stdio: ['ignore', 'pipe', fd], env: { JOURNAL_STREAM: streamId(fd) } });
  closeSync(fd);
  assert.equal(r.code, 0);
  const text = readFileSync(errFile, 'utf8');
  assert.match(text, /^<4>xfsguard: warning: could not write /m, text);
  const plain = runCli(args, { env: { JOURNAL_STREAM: '' } });
  assert.match(plain.stderr, /^xfsguard: warning: could not write /m, plain.stderr);
});
