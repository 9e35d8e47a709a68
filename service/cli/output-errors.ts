// A full disk or a closed pipe on standard output (`xfsguard check P >/dev/full`, `| head -c0`) is
// a failure to deliver the answer, not a crash: one line on stderr and exit 1, never a stack trace.
// Node reports such write errors as an 'error' event on process.stdout, after the write returned.
import { EXIT } from './exit-codes.js';

let failed = false;

/** Has writing standard output failed? The answer was not delivered, so the exit code must not say it was. */
export function outputFailed(): boolean {
  return failed;
}

/** Turns write errors on stdout (and stderr) into one line and exit 1. */
export function guardOutputStreams(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    process.exitCode = EXIT.INTERNAL;
    if (failed) return;
    failed = true;
    process.stderr.write(`xfsguard: cannot write to standard output: ${err.code ?? err.message}\n`);
  });
  // Nowhere left to say it: just never crash on it.
  process.stderr.on('error', () => {
    process.exitCode = EXIT.INTERNAL;
  });
}
