// The knowledge base's error, zod-free: `check` handles it without loading the schema.

export class KnowledgeBaseError extends Error {
  override name = 'KnowledgeBaseError';
  constructor(
    message: string,
    readonly file: string,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}
