// Reading a secret the service starts with (the API bearer token, the TLS private key): a regular
// file of bounded size that not every user can read. One rule for every secret.
import { statSync } from 'node:fs';
import { readRegularFileSync } from '../../probes/regular-file.js';

export class PrivateFileError extends Error {
  override name = 'PrivateFileError';
  constructor(
    readonly file: string,
    /** 'unreadable': missing, refused, not a regular file or too large; 'world_readable': mode o+r. */
    readonly reason: 'unreadable' | 'world_readable',
    /** Why it is unreadable: the errno code (ENOENT, EACCES, ENOTREG, EFBIG...). */
    readonly detail = '',
  ) {
    super(reason === 'unreadable' ? `${file} cannot be read (${detail})` : `${file} is readable by every user`);
  }
}

/** Reads a secret of at most `maxBytes`; refuses a file that is readable by every user. */
export function readPrivateFileSync(file: string, maxBytes: number): string {
  let text: string;
  try {
    text = readRegularFileSync(file, maxBytes);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new PrivateFileError(file, 'unreadable', err.code ?? err.message);
  }
  if ((statSync(file).mode & 0o004) !== 0) throw new PrivateFileError(file, 'world_readable');
  return text;
}
