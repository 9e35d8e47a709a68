#!/usr/bin/env node
import { main } from './main.js';
import { enableCompileCache } from './compile-cache.js';
import { EXIT } from './exit-codes.js';
import { guardOutputStreams, outputFailed } from './output-errors.js';

guardOutputStreams();
// before the command's bundle is loaded: that is the code worth caching
enableCompileCache();
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = outputFailed() ? EXIT.INTERNAL : code;
});
