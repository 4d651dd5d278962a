/**
 * Costly work (a slow password hash) run a few at a time. When the wait for a turn would be
 * longer than a caller can wait, the work is refused at once with `Busy` instead of being queued
 * to time out: under a storm, those that are served are served in time and the others are told
 * to come back later, rather than everyone waiting and nobody getting through.
 */
export class Busy extends Error {
  override name = "Busy";
  constructor(readonly expectedWaitMs: number) {
    super(`busy: a turn would come in about ${Math.round(expectedWaitMs / 1000)} s`);
  }
}

export interface BoundedQueueOptions {
  /** How many run at once. */
  concurrency: number;
  /** Work whose turn would come later than this is refused. */
  maxWaitMs: number;
  /** How long one run is expected to take before any has been timed. */
  initialEstimateMs: number;
}

export class BoundedQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** How long one run takes, exponentially weighted towards the latest. */
  private averageMs: number;

  constructor(private readonly o: BoundedQueueOptions) {
    this.averageMs = o.initialEstimateMs;
  }

  /** How long work asked for now would wait for its turn. */
  expectedWaitMs(): number {
    if (this.running < this.o.concurrency) return 0;
    return ((this.waiting.length + 1) * this.averageMs) / this.o.concurrency;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < this.o.concurrency) this.running++;
    else {
      const wait = this.expectedWaitMs();
      if (wait > this.o.maxWaitMs) throw new Busy(wait);
      // The slot is handed over by the run that ends (running is not lowered in between).
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    const began = performance.now();
    try {
      return await work();
    } finally {
      this.averageMs = 0.8 * this.averageMs + 0.2 * (performance.now() - began);
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
