/**
 * End-to-end latency, as a user of the API sees it: from the moment a charger sealed a
 * telemetry reading to the moment `GET /ev/central/sessions/:id` first shows that energy (or
 * more: readings are cumulative, and Central keeps only the latest of a batch).
 *
 * Each sampled session with readings not yet seen is polled, one request at a time: first
 * `pollMinMs` after the send, then again after a tenth of the time waited so far (never sooner
 * than `pollMinMs`), so the error stays within about 10% (or `pollMinMs`) without flooding the
 * API. The time recorded is when the answer arrived, so a figure never understates.
 */
import { summarise } from "./stats.ts";

interface Sent {
  energy: number;
  sentAt: number;
}

interface Followed {
  pending: Sent[];
  nextPollAt: number;
  polling: boolean;
}

export class LatencySampler {
  private sessions = new Map<string, Followed>();
  private latencies: number[] = [];
  /** The worst latency of the readings sent in each second of the window (ms), by the second's start. */
  private worstBySecond = new Map<number, number>();
  private timer?: ReturnType<typeof setInterval>;
  private accepting = false;
  /** Readings sent from this moment on are measured (the window's start); those before are only followed. */
  private measuredFrom = Number.POSITIVE_INFINITY;
  private failures = 0;
  private abandoned = 0;

  constructor(
    private apiUrl: string,
    private pollMinMs: number,
  ) {}

  /**
   * Starts following readings (the load began): the API is polled from the warm-up on as in the
   * window, so that the window does not open on an API and a database path not yet warm (a
   * spike in the first seconds of some windows), but nothing is measured yet.
   */
  follow(): void {
    this.accepting = true;
    this.timer ??= setInterval(() => this.pollDue(), Math.max(2, Math.floor(this.pollMinMs / 2)));
  }

  /** The measurement window opened: readings sent from now on are measured (those still awaited from before are dropped). */
  open(): void {
    this.follow();
    this.measuredFrom = Date.now();
    for (const f of this.sessions.values()) f.pending = [];
  }

  /** Readings sent from now on are not followed; those in flight still are. */
  closeWindow(): void {
    this.accepting = false;
  }

  sent(sessionId: string, energy: number, sentAt: number): void {
    if (!this.accepting) return;
    let f = this.sessions.get(sessionId);
    if (!f) {
      f = { pending: [], nextPollAt: 0, polling: false };
      this.sessions.set(sessionId, f);
    }
    if (f.pending.length === 0) f.nextPollAt = sentAt + this.pollMinMs;
    f.pending.push({ energy, sentAt });
  }

  /** Waits until every followed reading was seen, or `timeoutMs`. */
  async settle(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until && [...this.sessions.values()].some((f) => f.pending.length > 0)) await Bun.sleep(50);
    for (const f of this.sessions.values()) {
      this.abandoned += f.pending.length;
      f.pending = [];
    }
  }

  summary() {
    const bySecond = [...this.worstBySecond].sort(([a], [b]) => a - b);
    return {
      ...summarise(this.latencies),
      sessions: this.sessions.size,
      unseen: this.abandoned,
      pollFailures: this.failures,
      /** [second the readings were sent (ms since the epoch), worst latency of that second's readings]: when the slow ones were sent */
      worstBySecond: bySecond,
    };
  }

  close(): void {
    clearInterval(this.timer);
  }

  private record(sentAt: number, ms: number): void {
    if (sentAt < this.measuredFrom) return;
    this.latencies.push(ms);
    const second = sentAt - (sentAt % 1000);
    if (ms > (this.worstBySecond.get(second) ?? -1)) this.worstBySecond.set(second, ms);
  }

  private pollDue(): void {
    const now = Date.now();
    for (const [sessionId, f] of this.sessions) {
      if (f.polling || f.pending.length === 0 || now < f.nextPollAt) continue;
      f.polling = true;
      void this.poll(sessionId, f).finally(() => {
        f.polling = false;
      });
    }
  }

  private async poll(sessionId: string, f: Followed): Promise<void> {
    let energy: number | undefined;
    try {
      const response = await fetch(`${this.apiUrl}/ev/central/sessions/${encodeURIComponent(sessionId)}`);
      if (response.ok) energy = ((await response.json()) as { session: { energy_kwh: number } }).session.energy_kwh;
      else this.failures++;
    } catch {
      this.failures++;
    }
    const seenAt = Date.now();
    if (energy !== undefined) {
      const shown = energy;
      const still: Sent[] = [];
      for (const s of f.pending) {
        if (s.energy <= shown + 1e-9) this.record(s.sentAt, seenAt - s.sentAt);
        else still.push(s);
      }
      f.pending = still;
    }
    const oldest = f.pending[0];
    if (oldest) f.nextPollAt = Math.max(seenAt + this.pollMinMs, seenAt + (seenAt - oldest.sentAt) / 10);
  }
}
