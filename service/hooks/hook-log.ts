// Hook logging: stderr (libvirt shows a failing hook's stderr in its error), syslog through
// logger(1), tag xfsguard-hook, one logger per priority, not waited for; and, when LOG_FILE is
// set (hosts without syslog), appended to that file.
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';

export type Level = 'info' | 'warning' | 'err';

export class HookLog {
  private readonly lines: { level: Level; text: string }[] = [];

  constructor(
    private readonly syslog: boolean,
    private readonly file: string | null = null,
  ) {}

  log(level: Level, text: string): void {
    process.stderr.write(`xfsguard hook: ${text}\n`);
    this.lines.push({ level, text });
  }

  /** Hands the lines to logger(1); a missing logger leaves stderr only. */
  flush(): void {
    if (this.file !== null && this.lines.length > 0) {
      const stamp = new Date().toISOString();
      try {
        appendFileSync(this.file, this.lines.map((l) => `${stamp} ${l.level} ${l.text}\n`).join(''), { mode: 0o640 });
      } catch {
        // an unwritable log file must not change the verdict
      }
    }
    if (!this.syslog || this.lines.length === 0) return;
    for (const level of ['info', 'warning', 'err'] as const) {
      const text = this.lines.filter((l) => l.level === level).map((l) => l.text);
      if (text.length === 0) continue;
      try {
        const child = spawn('logger', ['-t', 'xfsguard-hook', '-p', `daemon.${level}`], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
        child.on('error', () => undefined);
        child.stdin.on('error', () => undefined);
        child.stdin.end(`${text.join('\n')}\n`);
        child.unref();
      } catch {
        // no logger: stderr only
      }
    }
    this.lines.length = 0;
  }
}
