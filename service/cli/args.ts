// Flag parsing shared by the commands: node:util parseArgs, with its errors turned into UsageError.
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PathInputError, checkPathInput } from '../../probes/path-input.js';
import { UsageError } from './usage-error.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommandArgs<O extends Options>(command: string, argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new UsageError(`${command}: ${message} (see 'xfsguard ${command} --help')`);
  }
}

export function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`);
  }
  return value as T;
}

export function positiveInt(flag: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new UsageError(`--${flag} must be a whole number from 1 to ${max}; got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** Exactly one PATH operand, checked and made absolute against the working directory. */
export function pathOperand(command: string, positionals: string[]): string {
  if (positionals.length === 0) throw new UsageError(`${command}: a PATH is required (see 'xfsguard ${command} --help')`);
  if (positionals.length > 1) throw new UsageError(`${command}: one PATH only; got ${positionals.length}`);
  try {
    return path.resolve(checkPathInput(positionals[0], { requireAbsolute: false }));
  } catch (err) {
    if (err instanceof PathInputError) throw new UsageError(`${command}: ${err.message}`);
    throw err;
  }
}

/** --kernel-release: something shaped like a `uname -r`, bounded in length. */
export function kernelReleaseFlag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9][0-9A-Za-z._+~^-]{0,199}$/.test(value)) {
    throw new UsageError(`--kernel-release must look like a kernel release (e.g. 5.4.0-42-generic); got ${JSON.stringify(value)}`);
  }
  if (/^[0-9]{10,}|^[0-9]+\.[0-9]{10,}|^[0-9]+\.[0-9]+\.[0-9]{10,}/.test(value)) {
    throw new UsageError(`--kernel-release: a version number of 10 or more digits is not a kernel version; got ${JSON.stringify(value.slice(0, 40))}…`);
  }
  return value;
}
