// The bearer token for the API over TCP: written once by `xfsguard install` (0640, root's group
// by default: chgrp it to the group of the orchestration tool that reads it), read by `serve --tcp`.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { ensureDirectory } from '../../probes/state-dir.js';
import { PrivateFileError, readPrivateFileSync } from './private-file.js';

export const DEFAULT_TOKEN_FILE = '/etc/xfsguard/api-token';
/** Shorter than this is not a secret worth the name (32 random bytes give 43 base64url characters). */
export const MIN_TOKEN_LENGTH = 32;

export class TokenFileError extends Error {
  override name = 'TokenFileError';
}

/** Writes a fresh random token to `file` (mode 0640) unless one is there; true when written. */
export async function ensureTokenFile(file: string): Promise<boolean> {
  if (existsSync(file)) return false;
  await ensureDirectory(path.dirname(file), 0o755);
  const fh = await open(file, 'wx', 0o640);
  try {
    await fh.writeFile(`${randomBytes(32).toString('base64url')}\n`);
    await fh.chmod(0o640);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return true;
}

/** Reads the token (first line); refuses one that is missing, empty, short or readable by everyone. */
export function readTokenFile(file: string): string {
  let text: string;
  try {
    text = readPrivateFileSync(file, 4096);
  } catch (err) {
    if (!(err instanceof PrivateFileError)) throw err;
    if (err.reason === 'world_readable') throw new TokenFileError(`${file} is readable by every user: chmod 0640 it (and make a new token)`);
    throw new TokenFileError(`TCP needs a bearer token, and ${file} cannot be read (${err.detail}): run 'xfsguard install', or write one there (mode 0640)`);
  }
  const token = text.split('\n', 1)[0]!.trim();
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new TokenFileError(`${file}: the token must be one line of at least ${MIN_TOKEN_LENGTH} characters without spaces`);
  }
  return token;
}
