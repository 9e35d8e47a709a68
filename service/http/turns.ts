// Decision work in bounded batches, one batch per event-loop turn. Between batches the loop reads
// its sockets again, so a health probe (answered at once, without a turn) waits for one batch at
// most, not for every decision already parsed: /livez stays fast under a flood of decisions.
// Below perTurn decisions per turn nothing waits.
export class Turns {
  private readonly waiting: (() => void)[] = [];
  private ranThisTurn = 0;
  private scheduled = false;

  constructor(private readonly perTurn: number) {}

  /** Resolves when this piece of work may run. */
  next(): Promise<void> {
    if (this.waiting.length === 0 && this.ranThisTurn < this.perTurn) {
      this.ranThisTurn += 1;
      this.schedule();
      return Promise.resolve();
    }
    const turn = new Promise<void>((resolve) => this.waiting.push(resolve));
    this.schedule();
    return turn;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.turn);
  }

  private readonly turn = (): void => {
    this.scheduled = false;
    this.ranThisTurn = 0;
    const batch = this.waiting.splice(0, this.perTurn);
    this.ranThisTurn = batch.length;
    for (const resolve of batch) resolve();
    if (this.ranThisTurn > 0) this.schedule();
  };
}
