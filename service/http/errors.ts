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

export function notAllowed(requested: string, resolved: string | null, policy: OperatorPolicy): PathNotAllowedError {
  const via = resolved !== null && resolved !== requested ? ` (it resolves to ${resolved})` : '';
  return new PathNotAllowedError(`${requested}${via} is outside the allowed roots of the policy (${policy.allowed_roots.join(', ') || 'none'})`);
}
