// The xfsguard command line: one file per command under commands/, loaded on demand so that
// `check` never loads the HTTP stack. Built, each command is a bundle of its own
// (tools/bundle-cli.mjs): its errors are classes of its own copy, so they are told by name here.
import { processIo, type Command, type CommandIo } from './command.js';
import { EXIT, EXIT_CODES_HELP } from './exit-codes.js';
import { UsageError } from './usage-error.js';

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  check: { summary: 'should the workaround be enabled for images at PATH?', load: () => import('./commands/check.js') },
  explain: { summary: 'print the evidence chain behind the answer for PATH', load: () => import('./commands/explain.js') },
  selftest: { summary: 'run the live race self-test on the filesystem of PATH', load: () => import('./commands/selftest.js') },
  serve: { summary: 'run the HTTP decision service (unix socket and loopback)', load: () => import('./commands/serve.js') },
  'boot-check': { summary: 'self-test every allowed root once per boot and write node-level outputs', load: () => import('./commands/boot-check.js') },
  'libvirt-hook': { summary: 'the libvirt qemu hook: judge a starting domain\'s disks (run by libvirt)', load: () => import('./commands/libvirt-hook.js') },
  'proxmox-hook': { summary: 'the Proxmox VE hookscript: judge a starting VM\'s disks (pre-start)', load: () => import('./commands/proxmox-hook.js') },
  install: { summary: 'install the systemd units, a default policy and the command', load: () => import('./commands/install.js') },
  uninstall: { summary: 'remove what install put in place (state and policy stay unless asked)', load: () => import('./commands/uninstall.js') },
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const list = Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
    .join('\n');
  return `Usage: xfsguard COMMAND [options]

Tells whether QEMU's workaround for the XFS fallocate vs in-flight AIO+DIO size race (fixed
in Linux 5.5 by 249bd9087a52) must be enabled for VM images at a path, from the filesystem,
the kernel and a live self-test on that filesystem.

Commands:
${list}

Run 'xfsguard COMMAND --help' for a command's options.

${EXIT_CODES_HELP}`;
}

/** UsageError, or a PathInputError (probes/path-input.ts) nothing turned into one: bad input, exit 2. */
function isUserError(err: unknown): err is Error {
  return err instanceof Error && (err.name === 'UsageError' || err.name === 'PathInputError');
}

export async function main(argv: string[], io: CommandIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined) throw new UsageError(`a COMMAND is required (${Object.keys(COMMANDS).join(', ')}); see 'xfsguard --help'`);
    if (name === '--help' || name === '-h' || name === 'help') {
      io.print(mainHelp());
      return 0;
    }
    if (name === '--version' || name === '-V') {
      io.print((await import('../package-info.js')).XFSGUARD_VERSION);
      return 0;
    }
    const entry = COMMANDS[name];
    if (entry === undefined) throw new UsageError(`unknown command ${JSON.stringify(name)} (commands: ${Object.keys(COMMANDS).join(', ')})`);
    const command = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      io.print(command.help);
      return 0;
    }
    return await command.run(rest, io);
  } catch (err) {
    if (isUserError(err)) {
      process.stderr.write(`xfsguard: ${err.message}\n`);
      return EXIT.USAGE;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`xfsguard: internal error: ${message.split('\n')[0]}\n`);
    if (process.env.XFSGUARD_DEBUG === '1' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return EXIT.INTERNAL;
  }
}
