// Time-bounds every filesystem probe a request makes, and refuses new ones while stuck probes
// could hold every thread-pool thread.
import type { FilesystemFacts } from '../../probes/types.js';
import { ApiError } from './errors.js';

/**
 * Every filesystem probe a request makes goes through here (its errno failures arrive as
 * PathInputError, answered 4xx by the error handler): a probe that does not answer within the deadline (a hung FUSE or NFS
 * mount: realpath/stat block in the thread pool, with no timeout of their own) is answered 504
 * instead of hanging the request. Such a probe still holds a thread-pool thread until the kernel
 * lets go; they are counted, and once they could hold every thread, new probes are refused at
 * once (503) rather than queued behind them.
 */
export class ProbeGuard {
  private stuckCount = 0;

  constructor(
    private readonly timeoutMs: number,
    readonly maxStuck: number,
    private readonly onStuck: (path: string, timeoutMs: number) => void = () => undefined,
  ) {}

  /** Probes past their deadline that have not returned yet. */
  get stuck(): number {
    return this.stuckCount;
  }

  get stalled(): boolean {
    return this.stuckCount >= this.maxStuck;
  }

  wrap(probe: (absolute: string) => Promise<FilesystemFacts>): (absolute: string) => Promise<FilesystemFacts> {
    return (absolute) => this.run(absolute, probe);
  }

  private async run(absolute: string, probe: (absolute: string) => Promise<FilesystemFacts>): Promise<FilesystemFacts> {
    if (this.stalled) {
      throw new ApiError(503, 'probes_stalled', `${this.stuckCount} filesystem probes have not returned (a hung mount?): no new probe is started until they do`);
    }
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const pending = probe(absolute);
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        this.stuckCount += 1;
        this.onStuck(absolute, this.timeoutMs);
        reject(new ApiError(504, 'path_unresponsive', `the filesystem at ${absolute} did not answer within ${this.timeoutMs} ms (a hung FUSE or network mount?)`));
      }, this.timeoutMs);
    });
    pending
      .finally(() => {
        clearTimeout(timer);
        if (timedOut) this.stuckCount -= 1;
      })
      .catch(() => undefined);
    return await Promise.race([pending, deadline]);
  }
}
