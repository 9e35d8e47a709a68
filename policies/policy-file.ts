// Reading an operator policy file: JSON, no duplicate keys (policy-file-read.ts), then the schema
// (policy-file-schema.ts), which a plainly well-formed file skips (policy-file-plain.ts). Apart from operator-policy.ts so that
// code which only applies a policy does not load the schema and the JSON visitor (issue 11).
import { readFileSync } from 'node:fs';
import { formatIssueMessage, formatIssuePath } from './issue-format.js';
import { DEFAULT_POLICY_PATH, PolicyError, defaultPolicy, type OperatorPolicy } from './operator-policy.js';
import { readPolicyPlainly } from './policy-file-read.js';
import { policyFileSchemas } from './policy-file-schema.js';

/** Parses policy JSON text. Throws PolicyError naming the file, the field and the problem; never returns a partial policy. */
export function parsePolicy(text: string, file: string): OperatorPolicy {
  const first = readPolicyPlainly(text, file);
  return 'policy' in first ? first.policy : parsePolicyData(first.data, file);
}

/** The schema's reading of a policy file's parsed JSON (what readPolicyPlainly() left to it). */
export function parsePolicyData(data: unknown, file: string): OperatorPolicy {
  const r = policyFileSchemas().PolicyFileSchema.safeParse(data);
  if (!r.success) {
    const parts = r.error.issues.map((i) => {
      if (i.code === 'unrecognized_keys') {
        const base = formatIssuePath(i.path);
        return i.keys
          .map((k) => `${base === '(root)' ? k : `${base}.${k}`}: unknown key`)
          .join('; ');
      }
      return `${formatIssuePath(i.path)}: ${formatIssueMessage(i.message)}`;
    });
    throw new PolicyError(`${file}: ${parts.join('; ')}`, file);
  }
  return { ...r.data, source: file };
}

/**
 * Loads the policy file. A missing file gives the built-in defaults unless `mustExist` (a path the operator
 * named explicitly — flag or XFSGUARD_POLICY), in which case it is an error, as is any unreadable file.
 */
export function loadPolicy(file: string = DEFAULT_POLICY_PATH, opts: { mustExist?: boolean } = {}): OperatorPolicy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' && !opts.mustExist) return defaultPolicy();
    throw new PolicyError(`${file}: cannot read: ${err.code ?? err.message}`, file);
  }
  return parsePolicy(text, file);
}
