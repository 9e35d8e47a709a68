#!/usr/bin/env node
import { main } from './main.js';
import { EXIT } from './exit-codes.js';
import { guardOutputStreams, outputFailed } from './output-errors.js';

guardOutputStreams();
const code = await main(process.argv.slice(2));
process.exitCode = outputFailed() ? EXIT.INTERNAL : code;
