// Checks on a path given by a user (CLI argument or HTTP query) before anything touches it.

/** Linux PATH_MAX, including the terminating NUL. */
export const PATH_MAX = 4096;
/** Linux NAME_MAX: the longest name of one path component, in bytes. */
export const NAME_MAX = 255;

const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];

export class PathInputError extends Error {
  constructor(
    readonly code: 'path_missing' | 'path_nul' | 'path_too_long' | 'path_relative' | 'path_pseudo' | 'path_permission' | 'path_invalid',
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
