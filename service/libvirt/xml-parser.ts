// fast-xml-parser, loaded as its single-file CommonJS bundle: the ESM entry is dozens of small
// modules and takes several times longer to load, which every VM start would pay in the hook.
import { createRequire } from 'node:module';

const fxp = createRequire(import.meta.url)('fast-xml-parser') as typeof import('fast-xml-parser');
export const { XMLParser, XMLValidator } = fxp;
