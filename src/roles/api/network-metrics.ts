/**
 * The network's figures on the API's /metrics, read from the database when scraped (each API
 * reports the same network-wide values, as each answers GET /summary alike): chargers per state
 * and in frost, sessions in progress and finished, power now, energy delivered, Central's outbox.
 */
import { count, sql } from "drizzle-orm";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Db } from "../../db/client.ts";
import { chargingSessions, outbox } from "../../db/schema/index.ts";
import { within } from "../../observability/registry.ts";
import type { NetworkSummary } from "./console-shapes.ts";
import { networkSummary } from "./views/summary.ts";

const READ_MS = 2000;
/** One read of the database serves every metric of a scrape. */
const FRESH_MS = 1000;

interface Figures {
  summary: NetworkSummary;
  finished: number;
  energyKwh: number;
  outbox: number;
}

async function readFigures(db: Db): Promise<Figures> {
  const [summary, [totals], [queued]] = await Promise.all([
    networkSummary(db),
    db
      .select({
        finished: sql<string>`count(*) filter (where ${chargingSessions.status} = 'FINISHED')`,
        energy: sql<string>`coalesce(sum(${chargingSessions.energyKwh}), 0)`,
      })
      .from(chargingSessions),
    db.select({ n: count() }).from(outbox),
  ]);
  return { summary, finished: Number(totals?.finished ?? 0), energyKwh: Number(totals?.energy ?? 0), outbox: Number(queued?.n ?? 0) };
}

export function registerNetworkMetrics(registry: Registry, db: Db): void {
  let last: { at: number; figures: Promise<Figures | undefined> } | undefined;
  const figures = () => {
    if (!last || Date.now() - last.at > FRESH_MS) last = { at: Date.now(), figures: within(READ_MS, () => readFigures(db)) };
    return last.figures;
  };
  // A metric the database could not give this time is left out of the scrape, not reported as 0.
  const gauge = (name: string, help: string, read: (f: Figures, g: Gauge) => void, labelNames: string[] = []) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        const f = await figures();
        if (f) read(f, this);
      },
    });
  const counter = (name: string, help: string, read: (f: Figures) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      async collect() {
        const f = await figures();
        if (!f) return;
        this.reset(); // a total read from the database, where it only grows
        this.inc(read(f));
      },
    });
  gauge(
    "evnet_charging_points",
    "Registered charging points, by state.",
    (f, g) => {
      for (const [state, n] of Object.entries(f.summary.by_state)) g.set({ state }, n);
    },
    ["state"],
  );
  gauge("evnet_charging_points_in_frost", "Charging points in a city under a frost alert.", (f, g) => g.set(f.summary.in_frost));
  gauge("evnet_sessions_in_progress", "Charging sessions in progress.", (f, g) => g.set(f.summary.sessions_in_progress));
  gauge("evnet_power_kilowatts", "Power being delivered now, over every session in progress (kW).", (f, g) => g.set(f.summary.power_kw));
  gauge("evnet_drivers_charging", "Drivers charging now.", (f, g) => g.set(f.summary.drivers_charging));
  gauge("evnet_outbox_messages", "Messages Central decided and committed but has not published yet.", (f, g) => g.set(f.outbox));
  counter("evnet_sessions_finished_total", "Charging sessions finished, ever.", (f) => f.finished);
  counter("evnet_energy_delivered_kwh_total", "Energy delivered by every session, ever (kWh).", (f) => f.energyKwh);
}
