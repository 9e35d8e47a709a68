// JSON.parse keeps the last of two equal keys silently; a policy file saying "allowed_roots" twice is
// ambiguous and must be refused. jsonc-parser's visitor walks the text once and reports where a key repeats.
import { visit } from 'jsonc-parser';

export interface DuplicateKey {
  key: string;
  /** 1-based, of the second occurrence. */
  line: number;
  column: number;
}

/** The first key that appears twice in the same object, or null. Call on text JSON.parse accepted. */
export function findDuplicateKey(text: string): DuplicateKey | null {
  const open: Set<string>[] = [];
  let found: DuplicateKey | null = null;
  visit(text, {
    onObjectBegin: () => {
      open.push(new Set());
    },
    onObjectEnd: () => {
      open.pop();
    },
    onObjectProperty: (key, _offset, _length, startLine, startCharacter) => {
      const keys = open.at(-1);
      if (found !== null || keys === undefined) return;
      if (keys.has(key)) found = { key, line: startLine + 1, column: startCharacter + 1 };
      keys.add(key);
    },
  });
  return found;
}
