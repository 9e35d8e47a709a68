// The errors the service answers as `{code, message}` with their status.
import type { OperatorPolicy } from '../../policies/operator-policy.js';

/** An error answered as `{code, message}` with its status. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class PathNotAllowedError extends ApiError {
  constructor(message: string) {
    super(403, 'path_not_allowed', message);
  }
}

/**
 * The answer names only the path the caller gave: never where it resolves to (that would tell
 * where symlinks in directories the caller cannot read point) nor the roots (which the operator
 * has not published).
 */
export function notAllowed(requested: string, _resolved: string | null, _policy: OperatorPolicy): PathNotAllowedError {
  return new PathNotAllowedError(`${requested} is outside the allowed roots of the policy`);
}
