/**
 * Keeps the latest value per key and hands what it holds to `deliver` one batch at a time: while
 * a delivery is in flight, newer values replace older ones of the same key and leave together
 * in the next. For things where only the newest counts (a driver's live reading, a partition's
 * committed offset) and the sender must not wait. `deliver` handles its own failures.
 */
export class LatestPerKey<V> {
  private pending = new Map<string, V>();
  private running: Promise<void> | undefined;

  constructor(private readonly deliver: (values: V[]) => Promise<void>) {}

  /** `combine` makes the value from one still waiting for the same key (default: the new one replaces it). */
  put(key: string, value: V, combine?: (waiting: V, next: V) => V): void {
    const waiting = combine && this.pending.get(key);
    this.pending.set(key, waiting === undefined ? value : combine!(waiting, value));
    this.running ??= this.run();
  }

  /** Resolves once everything put so far has been delivered. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        const values = [...this.pending.values()];
        this.pending.clear();
        await this.deliver(values);
      }
    } finally {
      this.running = undefined;
    }
  }
}
