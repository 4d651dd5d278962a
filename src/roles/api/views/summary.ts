/** The network's figures for the summary tiles, counted by the database in one statement. */
import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "../../../db/client.ts";
import { inFrostSql } from "../../../db/repos/weather.ts";
import { CP_STATES } from "../../../domain/cp-state.ts";
import type { CountsByState, NetworkSummary } from "../console-shapes.ts";
import { inProgressRowsForGain, liveGainOf } from "./sessions.ts";

/** Every state present, 0 where the database counted none. */
export function countsByState(counted: Record<string, number | string> | null | undefined): CountsByState {
  return Object.fromEntries(CP_STATES.map((s) => [s, Number(counted?.[s] ?? 0)])) as CountsByState;
}

interface SummaryRow {
  total: string;
  by_state: Record<string, number> | null;
  in_frost: string;
  sessions_in_progress: string;
  power_kw: string;
  energy_in_progress_kwh: string;
  sessions_last_day: string;
  energy_last_day_kwh: string;
  drivers: string;
  drivers_charging: string;
}

const DAY_MS = 24 * 3600_000;

const round = (n: string | number, places: number) => Math.round(Number(n) * 10 ** places) / 10 ** places;

export async function networkSummary(db: Db): Promise<NetworkSummary> {
  // Sessions whose rows wait (CENTRAL_READINGS_INTERVAL) count with their live figures.
  const [result, inProgress] = await Promise.all([summaryOf(db), inProgressRowsForGain(db)]);
  const r = rowsOf<SummaryRow>(result)[0]!;
  const gain = liveGainOf(db, inProgress);
  const dayGain = liveGainOf(
    db,
    inProgress.filter((s) => s.startedAt.getTime() >= Date.now() - DAY_MS),
  );
  return {
    charging_points: Number(r.total),
    by_state: countsByState(r.by_state),
    in_frost: Number(r.in_frost),
    sessions_in_progress: Number(r.sessions_in_progress),
    power_kw: round(Number(r.power_kw) + gain.power_kw, 1),
    energy_in_progress_kwh: round(Number(r.energy_in_progress_kwh) + gain.energy_kwh, 3),
    sessions_last_day: Number(r.sessions_last_day),
    energy_last_day_kwh: round(Number(r.energy_last_day_kwh) + dayGain.energy_kwh, 3),
    drivers: Number(r.drivers),
    drivers_charging: Number(r.drivers_charging),
  };
}

function summaryOf(db: Db) {
  return db.execute(sql`
    with cps as (select c.status, ${inFrostSql(sql`c.location`)} as frost from charging_points c where c.deregistered_at is null),
         live as (select count(*) as n, coalesce(sum(power_kw), 0) as power, coalesce(sum(energy_kwh), 0) as energy
                    from charging_sessions where status = 'IN_PROGRESS'),
         day as (select count(*) as n, coalesce(sum(energy_kwh), 0) as energy
                   from charging_sessions where started_at >= now() - interval '24 hours')
    select (select count(*) from cps) as total,
           (select json_object_agg(status, n) from (select status, count(*) as n from cps group by status) s) as by_state,
           (select count(*) from cps where frost) as in_frost,
           live.n as sessions_in_progress, live.power as power_kw, live.energy as energy_in_progress_kwh,
           day.n as sessions_last_day, day.energy as energy_last_day_kwh,
           (select count(*) from drivers) as drivers,
           (select count(*) from drivers where status = 'CHARGING') as drivers_charging
      from live, day`);
}
