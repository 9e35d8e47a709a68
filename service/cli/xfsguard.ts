#!/usr/bin/env node
import { main } from './main.js';
import { EXIT } from './exit-codes.js';
import { guardOutputStreams, outputFailed } from './output-errors.js';

guardOutputStreams();
// no top-level await: the bundle may be CommonJS (tools/bundle-cli.mjs)
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = outputFailed() ? EXIT.INTERNAL : code;
});
