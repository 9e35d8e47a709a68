// Validates knowledge-base data with its zod schema: a file shipped separately, or the built-in
// table in the tests (run time trusts the built-in one, see knowledge-base.ts).
import { readFileSync } from 'node:fs';
import { KNOWLEDGE_BASE_DATA, KNOWLEDGE_BASE_FILE } from './knowledge-base.js';
import { KnowledgeBaseError } from './knowledge-base-error.js';
import { KnowledgeBaseSchema, type KnowledgeBase } from './knowledge-base-schema.js';
import { formatIssueMessage, formatIssuePath } from './issue-format.js';

/**
 * Validates knowledge-base data (default: the built-in table). A broken entry throws a KnowledgeBaseError
 * naming the file and the field path, e.g.
 * `knowledge base policies/knowledge-base.ts: bugs[0].streams[2].first_fixed: expected string, received number`.
 */
export function validateKnowledgeBase(data: unknown = KNOWLEDGE_BASE_DATA, file: string = KNOWLEDGE_BASE_FILE): KnowledgeBase {
  const r = KnowledgeBaseSchema.safeParse(data);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: formatIssuePath(i.path), message: formatIssueMessage(i.message) }));
  const text = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  throw new KnowledgeBaseError(`knowledge base ${file}: ${text}`, file, issues);
}

/** Reads a knowledge base from a JSON file (e.g. a newer revision shipped separately). */
export function loadKnowledgeBaseFile(file: string): KnowledgeBase {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new KnowledgeBaseError(`knowledge base ${file}: cannot read: ${(e as Error).message}`, file);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new KnowledgeBaseError(`knowledge base ${file}: invalid JSON: ${(e as Error).message}`, file);
  }
  return validateKnowledgeBase(data, file);
}
