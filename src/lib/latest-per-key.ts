/**
 * Keeps the latest value per key and hands what it holds to `deliver` one batch at a time: while
 * a delivery is in flight, newer values replace older ones of the same key and leave together
 * in the next. For things where only the newest counts (a driver's live reading, a partition's
 * committed offset) and the sender must not wait. `deliver` handles its own failures.
 *
 * With `gapMs`, a delivery starts no sooner than that long after the one before it started, so
 * that what comes in meanwhile leaves together (at most one delivery per gap); `idle()` cuts
 * the wait short.
 */
export class LatestPerKey<V> {
  private pending = new Map<string, V>();
  private running: Promise<void> | undefined;
  private lastStart = Number.NEGATIVE_INFINITY;
  /** Ends the gap being waited out now, if any. */
  private hurry: (() => void) | undefined;
  /** Callers of idle() waiting: no gap is waited out meanwhile. */
  private idleWaiters = 0;

  constructor(
    private readonly deliver: (values: V[]) => Promise<void>,
    private readonly gapMs = 0,
  ) {}

  /** `combine` makes the value from one still waiting for the same key (default: the new one replaces it). */
  put(key: string, value: V, combine?: (waiting: V, next: V) => V): void {
    const waiting = combine && this.pending.get(key);
    this.pending.set(key, waiting === undefined ? value : combine!(waiting, value));
    this.running ??= this.run();
  }

  /** Resolves once everything put so far has been delivered (at once, without waiting out a gap). */
  async idle(): Promise<void> {
    this.idleWaiters++;
    try {
      this.hurry?.();
      while (this.running) await this.running;
    } finally {
      this.idleWaiters--;
    }
  }

  private async run(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        const wait = this.idleWaiters > 0 ? 0 : this.lastStart + this.gapMs - performance.now();
        if (wait > 0) await this.gap(wait); // (not awaited otherwise: the first delivery starts within put())
        const values = [...this.pending.values()];
        this.pending.clear();
        this.lastStart = performance.now();
        await this.deliver(values);
      }
    } finally {
      this.running = undefined;
    }
  }

  private async gap(wait: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait);
      this.hurry = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.hurry = undefined;
  }
}
