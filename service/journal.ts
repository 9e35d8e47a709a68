// Log priorities for journald: when stdout/stderr is connected to the journal (systemd sets
// JOURNAL_STREAM=DEV:INO for it), each line starts with a `<N>` syslog priority prefix, which
// journald strips and records, so `journalctl -p warning` finds our warnings and errors.
import { fstatSync } from 'node:fs';

/** syslog priorities (sd-daemon.h): SD_CRIT 2, SD_ERR 3, SD_WARNING 4, SD_INFO 6, SD_DEBUG 7. */
export const PRIORITY = { crit: 2, err: 3, warning: 4, info: 6, debug: 7 } as const;

/** Is this file descriptor the stream systemd connected to the journal? */
export function isJournalStream(fd: number, env: NodeJS.ProcessEnv = process.env): boolean {
  const want = env.JOURNAL_STREAM;
  if (want === undefined || want === '') return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return want === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

/** pino's numeric level (fatal 60 … trace 10) as a syslog priority. */
export function priorityOfPinoLevel(level: number): number {
  if (level >= 60) return PRIORITY.crit;
  if (level >= 50) return PRIORITY.err;
  if (level >= 40) return PRIORITY.warning;
  if (level >= 30) return PRIORITY.info;
  return PRIORITY.debug;
}

/** A pino JSON line with its priority prefix (pino writes `{"level":N,...` first). */
export function prefixPinoLine(line: string): string {
  const m = /^\{"level":(\d+)/.exec(line);
  return m === null ? line : `<${priorityOfPinoLevel(Number(m[1]))}>${line}`;
}

/** A line for stderr with the prefix when stderr goes to the journal. */
export function journalLine(priority: number, text: string, fd = 2, env: NodeJS.ProcessEnv = process.env): string {
  return isJournalStream(fd, env) ? `<${priority}>${text}` : text;
}
