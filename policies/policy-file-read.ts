// The first steps of reading a policy file, without its zod schema: JSON, an object at the root, no
// duplicate keys, and then the plain reading of a plainly well-formed file (policy-file-plain.ts).
// `check` loads only this for a usual policy file; policy-file.ts adds the schema for the rest (issue 11).
import { findDuplicateKey } from './json-duplicate-keys.js';
import { PolicyError, type OperatorPolicy } from './operator-policy.js';
import { plainPolicyFile } from './policy-file-plain.js';

/**
 * The policy in `text` when it is plainly well-formed, else the parsed JSON for the schema to judge.
 * Throws PolicyError for what is not JSON, not an object, or has a key twice.
 */
export function readPolicyPlainly(text: string, file: string): { policy: OperatorPolicy } | { data: unknown } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new PolicyError(`${file}: invalid JSON: ${(e as Error).message}`, file);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new PolicyError(`${file}: (root): expected a JSON object`, file);
  }
  const dup = findDuplicateKey(text);
  if (dup !== null) {
    throw new PolicyError(`${file}: duplicate key ${JSON.stringify(dup.key)} at line ${dup.line} column ${dup.column}: which one applies would be ambiguous`, file);
  }
  // a plainly well-formed file is taken as the schema would take it; zod explains (or accepts) the rest
  const plain = plainPolicyFile(data);
  return plain !== null ? { policy: { ...plain, source: file } } : { data };
}
