// Checks on a path given by a user (CLI argument or HTTP query) before anything touches it.

/** Linux PATH_MAX, including the terminating NUL. */
export const PATH_MAX = 4096;

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
  if (opts.requireAbsolute && !input.startsWith('/')) {
    throw new PathInputError('path_relative', `the path must be absolute: ${JSON.stringify(input)}`);
  }
  return input;
}
