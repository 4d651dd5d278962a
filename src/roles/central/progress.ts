/**
 * Live progress for drivers, sent off the hot path: a committed batch hands over its readings
 * and goes on; one publish at a time carries the latest reading of every session that changed
 * since the previous one. Best effort by design (the next second brings a newer reading, and
 * the ticket is what counts), so a reading replaced before it left is not a loss. Each reading
 * travels sealed for its driver.
 */
import type { Bus } from "../../bus/bus.ts";
import type { Progress } from "../../bus/messages.ts";
import { LatestPerKey } from "../../lib/latest-per-key.ts";
import type { Logger } from "../../lib/log.ts";
import type { CentralChannel } from "./channel.ts";

export class ProgressSender {
  private latest = new LatestPerKey<Progress>((batch) => this.publish(batch));

  constructor(
    private bus: Bus,
    private topic: string,
    private channel: CentralChannel,
    private log: Logger,
    /** Called when a publish fails (Central's bus health). */
    private onFailure: () => void,
  ) {}

  send(progress: Iterable<Progress>): void {
    for (const p of progress) this.latest.put(p.session_id, p);
  }

  /** Waits for what is pending to leave (Central is stopping). */
  flush(): Promise<void> {
    return this.latest.idle();
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
