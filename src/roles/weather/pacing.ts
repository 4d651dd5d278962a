/**
 * Keeping within the provider's plan. OpenWeather's free plan allows 60 calls a minute and
 * 1,000,000 a month for the whole account; with N cities a round is N calls, so a round may
 * start no more often than N × (the plan's gap between calls), however short
 * WEATHER_CHECK_INTERVAL is. On top of that, calls are spaced by that gap, and a 429 stops all
 * calls for Retry-After, or an exponentially growing pause when the provider gives none.
 */

/** How often rounds start: the configured interval, stretched so N calls per round fit the plan. */
export function effectiveIntervalMs(checkIntervalMs: number, cityCount: number, minMsBetweenCalls: number): number {
  return Math.max(checkIntervalMs, cityCount * minMsBetweenCalls);
}

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Real time; `sleep` ends early (without throwing) when the signal aborts. */
export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (ms <= 0 || signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
    }),
};

/** Spaces calls at least `minGapMs` apart, across rounds too. */
export class Pacer {
  private lastCallAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly minGapMs: number,
    private readonly clock: Clock = realClock,
  ) {}

  /** Waits for this call's turn, then counts it as made. */
  async turn(signal?: AbortSignal): Promise<void> {
    const wait = this.lastCallAt + this.minGapMs - this.clock.now();
    if (wait > 0) await this.clock.sleep(wait, signal);
    this.lastCallAt = this.clock.now();
  }
}

/** Pauses after the provider said "too many calls": its Retry-After, else base × 2^(n-1), capped. */
export class Backoff {
  private consecutive = 0;
  private until = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly clock: Clock = realClock,
  ) {}

  /** Records one more refusal; returns how long to stay away. */
  refuse(retryAfterMs?: number): number {
    this.consecutive++;
    const exponential = Math.min(this.maxMs, this.baseMs * 2 ** (this.consecutive - 1));
    const pause = retryAfterMs !== undefined ? Math.min(this.maxMs, Math.max(retryAfterMs, 1)) : exponential;
    this.until = this.clock.now() + pause;
    return pause;
  }

  /** A call went through: the next refusal starts from the base again. */
  succeed(): void {
    this.consecutive = 0;
    this.until = 0;
  }

  /** Milliseconds left before calls may resume (0: they may). */
  remainingMs(): number {
    return Math.max(0, this.until - this.clock.now());
  }
}
