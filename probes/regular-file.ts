// Reading a small file a user or another process can put in our way (a policy, a cached self-test
// record): a FIFO, /dev/zero or /dev/urandom in its place must be refused at once, not block or fill
// memory. Opened non-blocking (a FIFO without a writer opens at once), then fstat: regular files
// only, and no more than a cap.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

export class NotRegularFileError extends Error {
  override name = 'NotRegularFileError';
  /** Like an errno code, so callers can report it the way they report ENOENT or EACCES. */
  readonly code = 'ENOTREG';
  constructor(
    readonly file: string,
    readonly what: string,
  ) {
    super(`${file} is ${what}, not a regular file`);
  }
}

export class FileTooLargeError extends Error {
  override name = 'FileTooLargeError';
  readonly code = 'EFBIG';
  constructor(
    readonly file: string,
    readonly maxBytes: number,
  ) {
    super(`${file} is larger than ${maxBytes} bytes`);
  }
}

/** What an fstat mode is, in words, for the file types that are not regular files. */
function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'a special file';
}

/** Reads a regular file of at most `maxBytes` bytes as UTF-8 (throws errno errors as fs does, plus the two above). */
export async function readRegularFile(file: string, maxBytes: number): Promise<string> {
  const fh = await open(file, OPEN_FLAGS);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new NotRegularFileError(file, kindOf(st));
    if (st.size > maxBytes) throw new FileTooLargeError(file, maxBytes);
    // Read one byte more than allowed: a file that grows while read is caught too.
    const buf = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, length, buf.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw new FileTooLargeError(file, maxBytes);
    }
    return buf.subarray(0, length).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** The synchronous twin, for start-up (the CLI reads its policy before anything else runs). */
export function readRegularFileSync(file: string, maxBytes: number): string {
  const fd = openSync(file, OPEN_FLAGS);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new NotRegularFileError(file, kindOf(st));
    if (st.size > maxBytes) throw new FileTooLargeError(file, maxBytes);
    const buf = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const bytesRead = readSync(fd, buf, length, buf.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw new FileTooLargeError(file, maxBytes);
    }
    return buf.subarray(0, length).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
