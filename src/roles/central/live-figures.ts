/**
 * Live figures for the API (src/bus/live-figures.ts): what a committed batch applied of each
 * session's readings leaves, signed, at most once per `PUBLISH_GAP_MS` for all sessions that
 * changed meanwhile (the newest of each). Off the hot path and best effort, as drivers' progress:
 * the row is the truth, and the next reading follows within a second.
 */
import type { Bus } from "../../bus/bus.ts";
import { type LiveFigure, signLiveFigures } from "../../bus/live-figures.ts";
import type { Progress } from "../../bus/messages.ts";
import type { MessageSigner } from "../../crypto/signed-messages.ts";
import { LatestPerKey } from "../../lib/latest-per-key.ts";
import type { Logger } from "../../lib/log.ts";

export class LiveFiguresSender {
  private latest: LatestPerKey<Omit<LiveFigure, "at">>;

  constructor(
    private bus: Bus,
    private topic: string,
    private signer: MessageSigner,
    private log: Logger,
    /** Called when a publish fails (Central's bus health). */
    private onFailure: () => void,
    /** Least time between two publishes, in ms. */
    publishGapMs = 0,
  ) {
    this.latest = new LatestPerKey((figures) => this.publish(figures), publishGapMs);
  }

  send(progress: Iterable<Progress>): void {
    for (const p of progress)
      this.latest.put(p.session_id, { session_id: p.session_id, cp_id: p.cp_id, power_kw: p.power_kw, energy_kwh: p.energy_kwh, cost_eur: p.cost_eur });
  }

  /** Waits for what is pending to leave (Central is stopping). */
  async flush(): Promise<void> {
    await this.latest.idle();
  }

  private async publish(figures: Omit<LiveFigure, "at">[]): Promise<void> {
    try {
      await this.bus.publish(this.topic, signLiveFigures(this.signer, figures));
    } catch (err) {
      this.onFailure();
      this.log.debug("live figures not sent", { err });
    }
  }
}
