/**
 * The newest figures of sessions in progress as Central applied them (src/bus/live-figures.ts),
 * laid over the rows the API reads: a session's row may be written only once per
 * CENTRAL_READINGS_INTERVAL, its live figures leave a tenth of a second after each batch. Only
 * figures ahead of the row are shown (readings are cumulative), and only while the row says the
 * session is in progress: an ended session's row is final.
 */
import type { Auditor } from "../../../audit/audit.ts";
import type { Bus, BusMessage } from "../../../bus/bus.ts";
import { type KeptSubscription, keepSubscribed } from "../../../bus/keep-subscribed.ts";
import { type LiveFigure, openLiveFigures } from "../../../bus/live-figures.ts";
import type { Topics } from "../../../bus/topics.ts";
import type { MessageVerifier } from "../../../crypto/signed-messages.ts";
import type { Db } from "../../../db/client.ts";
import type { Logger } from "../../../lib/log.ts";
import { RecentMap } from "../../../lib/recent-map.ts";
import type { SessionView } from "../shapes.ts";

/** A session with no news for this long shows its row alone (Central writes it at least every few seconds). */
const KEEP_MS = 2 * 60_000;

export class LiveFigures {
  private bySession = new RecentMap<LiveFigure>(KEEP_MS);
  private changes = 0;

  /** Keeps each session's newest figures; an older or equal one (late, replayed) changes nothing. */
  apply(figures: LiveFigure[], now = Date.now()): void {
    for (const f of figures) {
      const known = this.bySession.get(f.session_id, now);
      if (known && (known.energy_kwh > f.energy_kwh || (known.energy_kwh === f.energy_kwh && known.at >= f.at))) continue;
      this.bySession.set(f.session_id, f, now);
      this.changes++;
    }
  }

  /** Changes whenever a figure shown may have changed (the live stream's fingerprint). */
  get version(): number {
    return this.changes;
  }

  get size(): number {
    return this.bySession.size;
  }

  /** The view with its live figures, when it is in progress and they are ahead of its row. */
  over(view: SessionView, now = Date.now()): SessionView {
    if (view.status !== "IN_PROGRESS") return view;
    const live = this.bySession.get(view.session_id, now);
    if (!live || live.cp_id !== view.cp_id || live.energy_kwh <= view.energy_kwh) return view;
    return {
      ...view,
      power_kw: live.power_kw,
      energy_kwh: live.energy_kwh,
      cost_eur: live.cost_eur,
      updated_at: live.at.localeCompare(view.updated_at) > 0 ? live.at : view.updated_at,
    };
  }
}

const byDatabase = new WeakMap<Db, LiveFigures>();

/** The live figures an API reading `db` keeps (the session views lay them over its rows). */
export function attachLiveFigures(db: Db, store: LiveFigures): void {
  byDatabase.set(db, store);
}

export function liveFiguresOf(db: Db): LiveFigures | undefined {
  return byDatabase.get(db);
}

/**
 * Reads the live figures from now on (each API process on its own, in a group of its own that
 * starts at the end) and keeps them in `store`. A message that fails its checks is refused and
 * audited as a security event; the rows are still shown.
 */
export function followLiveFigures(deps: {
  bus: Bus;
  topics: Topics;
  groupPrefix: string;
  verifier: MessageVerifier;
  store: LiveFigures;
  auditor: Auditor;
  log: Logger;
}): KeptSubscription {
  const handle = async (messages: BusMessage[]): Promise<void> => {
    for (const m of messages) {
      const opened = openLiveFigures(deps.verifier, m);
      if (opened.ok) {
        deps.store.apply(opened.figures);
        continue;
      }
      await deps.auditor.record({
        eventType: "security",
        actorType: "service",
        actorId: opened.header?.signer ?? null,
        resource: null,
        action: "live_figures",
        outcome: "failure",
        reason: `${opened.code}: ${opened.reason}`,
        sourceAddress: `kafka:${m.topic}/${m.partition ?? "?"}@${m.offset ?? "?"}`,
        details: { code: opened.code, key_id: opened.header?.kid, signer: opened.header?.signer, message_id: opened.header?.id },
      });
    }
  };
  return keepSubscribed(
    deps.bus,
    { topics: [deps.topics.centralLive], groupId: `${deps.groupPrefix}.${crypto.randomUUID()}`, from: "latest" },
    handle,
    deps.log,
  );
}
