// Asks a forked bench process something over IPC and waits for the answer of the given type.
import type { ChildProcess } from 'node:child_process';

export function ask<T>(proc: ChildProcess, msg: object, type: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { type: string }) => {
      if (m.type === type) {
        proc.off('message', on);
        resolve(m as T);
      }
    };
    proc.on('message', on);
    proc.send(msg);
  });
}
