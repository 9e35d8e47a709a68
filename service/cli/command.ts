import { UsageError } from './usage-error.js';

/** What a command may do to the outside world; tests spawn the built CLI instead of faking this. */
export interface CommandIo {
  print(text: string): void;
  /** Ends the command with a usage error (exit 2). */
  usage(message: string): never;
}

export const processIo: CommandIo = {
  print: (text) => {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  },
  usage: (message) => {
    throw new UsageError(message);
  },
};

export interface Command {
  help: string;
  run(argv: string[], io: CommandIo): Promise<number>;
}
