// Checks on a path given by a user (CLI argument or HTTP query) before anything touches it.

/** Linux PATH_MAX, including the terminating NUL. */
export const PATH_MAX = 4096;
/** Linux NAME_MAX: the longest name of one path component, in bytes. */
export const NAME_MAX = 255;

const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];

export class PathInputError extends Error {
  constructor(
    readonly code:
      | 'path_missing'
      | 'path_nul'
      | 'path_too_long'
      | 'path_relative'
      | 'path_pseudo'
      | 'path_permission'
      | 'path_invalid'
      | 'path_unavailable'
      | 'path_unresponsive',
    message: string,
  ) {
    super(message);
    this.name = 'PathInputError';
  }
}

export function isUnderPseudoRoot(absolute: string): boolean {
  return PSEUDO_ROOTS.some((root) => absolute === root || absolute.startsWith(`${root}/`));
}

/**
 * Rejects what can never be judged: empty, NUL bytes, longer than PATH_MAX, and (when
 * `requireAbsolute`) relative paths. Pseudo filesystems are checked after resolution too.
 */
export function checkPathInput(input: string | undefined, opts: { requireAbsolute: boolean }): string {
  if (input === undefined || input === '') throw new PathInputError('path_missing', 'a path is required');
  if (input.includes('\0')) throw new PathInputError('path_nul', 'the path contains a NUL byte');
  if (Buffer.byteLength(input) >= PATH_MAX) {
    throw new PathInputError('path_too_long', `the path is longer than PATH_MAX (${PATH_MAX - 1} bytes)`);
  }
  const longName = input.split('/').find((name) => Buffer.byteLength(name) > NAME_MAX);
  if (longName !== undefined) {
    throw new PathInputError('path_too_long', `a name in the path is longer than NAME_MAX (${NAME_MAX} bytes): ${longName.slice(0, 40)}…`);
  }
  if (opts.requireAbsolute && !input.startsWith('/')) {
    throw new PathInputError('path_relative', `the path must be absolute: ${JSON.stringify(input)}`);
  }
  return input;
}

/**
 * errno codes with which examining a path fails because of the path or its filesystem, not
 * because xfsguard is broken: they are answers for the user (exit 2, a 4xx), never internal errors.
 */
const PATH_ERRNO: Record<string, { code: PathInputError['code']; what: string }> = {
  EACCES: { code: 'path_permission', what: 'permission denied' },
  EPERM: { code: 'path_permission', what: 'operation not permitted' },
  ENAMETOOLONG: { code: 'path_too_long', what: 'a name in the path is too long' },
  ELOOP: { code: 'path_invalid', what: 'too many levels of symbolic links' },
  EINVAL: { code: 'path_invalid', what: 'invalid path' },
  ENOTCONN: { code: 'path_unavailable', what: 'the filesystem is not connected (a dead FUSE mount?)' },
  ESTALE: { code: 'path_unavailable', what: 'stale file handle (a dead network mount?)' },
  EIO: { code: 'path_unavailable', what: 'I/O error' },
  EHOSTDOWN: { code: 'path_unavailable', what: 'the host of the filesystem is down' },
  EHOSTUNREACH: { code: 'path_unavailable', what: 'the host of the filesystem is unreachable' },
  ETIMEDOUT: { code: 'path_unavailable', what: 'the filesystem timed out' },
  ENODEV: { code: 'path_unavailable', what: 'no such device' },
  ENXIO: { code: 'path_unavailable', what: 'no such device or address' },
  ENOMEDIUM: { code: 'path_unavailable', what: 'no medium' },
};

/** The PathInputError an fs call's failure on `where` stands for, or null when it is not one of those. */
export function pathErrorFromErrno(err: unknown, where: string): PathInputError | null {
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const known = errno !== undefined ? PATH_ERRNO[errno] : undefined;
  return known === undefined ? null : new PathInputError(known.code, `cannot examine ${where}: ${known.what} (${errno})`);
}
