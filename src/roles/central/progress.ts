/**
 * Live progress for drivers, sent off the hot path: a committed batch hands over its readings
 * and goes on; one publish at a time carries the latest reading of every session that changed
 * since the previous one. Best effort by design (a newer reading follows, and the ticket is what
 * counts), so a reading replaced before it left is not a loss. Each reading travels sealed for
 * its driver.
 *
 * A session's progress leaves at most once per `everyMs` (CENTRAL_PROGRESS_INTERVAL): a reading
 * that comes sooner is held, replaced by newer ones, and sent when its time comes. Sealing and
 * publishing an update per reading was a large share of Central's work per reading (and of the
 * driver's app), for a figure a driver glances at. Sessions start at different moments, so their
 * updates stay spread over time.
 */
import type { Bus } from "../../bus/bus.ts";
import type { Progress } from "../../bus/messages.ts";
import { LatestPerKey } from "../../lib/latest-per-key.ts";
import type { Logger } from "../../lib/log.ts";
import { RecentMap } from "../../lib/recent-map.ts";
import type { CentralChannel } from "./channel.ts";

/**
 * Least time between two publishes of progress (Central's default): the updates released
 * meanwhile leave in one. Without it nearly every committed batch published its own handful of
 * updates, a produce request each (and fetches for the drivers' apps); a tenth of a second is
 * nothing next to the interval.
 */
export const PUBLISH_GAP_MS = 100;

/** How often held readings are looked at, as a share of the interval. */
const CHECKS_PER_INTERVAL = 8;

export class ProgressSender {
  private latest: LatestPerKey<Progress>;
  /** When each session's progress last left, for an interval (after that its next is due anyway). */
  private sentAt: RecentMap<number>;
  /** The newest reading of each session that came before its time. */
  private held = new Map<string, Progress>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private bus: Bus,
    private topic: string,
    private channel: CentralChannel,
    private log: Logger,
    /** Called when a publish fails (Central's bus health). */
    private onFailure: () => void,
    /** Least time between two updates of one session, in ms (0: every reading). */
    private everyMs = 0,
    /** Least time between two publishes, in ms: what is released meanwhile leaves together (PUBLISH_GAP_MS). */
    publishGapMs = 0,
  ) {
    this.sentAt = new RecentMap(everyMs);
    this.latest = new LatestPerKey((batch) => this.publish(batch), publishGapMs);
  }

  send(progress: Iterable<Progress>): void {
    const now = Date.now();
    for (const p of progress) {
      if (now - (this.sentAt.get(p.session_id, now) ?? Number.NEGATIVE_INFINITY) >= this.everyMs) this.release(p, now);
      else this.held.set(p.session_id, p);
    }
    if (this.held.size > 0) this.timer ??= setTimeout(() => this.releaseDue(), Math.max(10, this.everyMs / CHECKS_PER_INTERVAL));
  }

  /** Sends what is held at once and waits for what is pending to leave (Central is stopping). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = Date.now();
    for (const p of this.held.values()) this.release(p, now);
    await this.latest.idle();
  }

  private release(p: Progress, now: number): void {
    this.held.delete(p.session_id);
    this.sentAt.set(p.session_id, now, now);
    this.latest.put(p.session_id, p);
  }

  private releaseDue(): void {
    this.timer = undefined;
    const now = Date.now();
    for (const p of this.held.values()) if (now - (this.sentAt.get(p.session_id, now) ?? 0) >= this.everyMs) this.release(p, now);
    if (this.held.size > 0) this.timer = setTimeout(() => this.releaseDue(), Math.max(10, this.everyMs / CHECKS_PER_INTERVAL));
  }

  private async publish(batch: Progress[]): Promise<void> {
    try {
      // A driver without a working key hears nothing.
      const sealed = await this.channel.sealForDrivers(batch.map((p) => ({ driverId: p.driver_id, payload: p })));
      await this.bus.publish(
        this.topic,
        sealed.filter((m) => m !== undefined),
      );
    } catch (err) {
      this.onFailure();
      this.log.debug("live progress not sent", { err });
    }
  }
}
