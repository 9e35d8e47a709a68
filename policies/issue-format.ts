// How a zod issue reads in our one-line errors. Its own zod-free file: the policy (zod/mini) and the
// knowledge base (zod) both use it, and `check` must not load full zod to print a policy error.

/** Renders a zod path as bugs[0].streams[2].first_fixed. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(root)' : out;
}

/** zod 4 messages read "Invalid input: expected string, received number"; keep the useful part. */
export function formatIssueMessage(message: string): string {
  return message.replace(/^Invalid input: /, '');
}
