/**
 * Lets the event loop take a turn once `afterMs` of work went by since the last one, reading the
 * clock only every `checkEvery` steps: for a long loop of synchronous work (opening a batch's
 * envelopes) that must not hold back other work's answers (a batch's database replies) for long.
 * Reading the time is what costs, so the steps between reads cost only a count.
 */
export class TurnTaker {
  private last: number;
  private steps = 0;

  constructor(
    private readonly afterMs: number,
    private readonly checkEvery: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.last = now();
  }

  /**
   * One step of the work: a promise to await when a turn is due (it resolves once the event loop
   * has run what was waiting), otherwise undefined, so that the usual step awaits nothing.
   */
  step(): Promise<void> | undefined {
    if (++this.steps % this.checkEvery !== 0 || this.now() - this.last < this.afterMs) return undefined;
    return new Promise((resolve) =>
      setImmediate(() => {
        this.last = this.now();
        resolve();
      }),
    );
  }
}
