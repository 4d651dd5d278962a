/**
 * A cheap summary of everything the dashboard shows: when it changes, something changed. One
 * query over the small "hot" sets (CPs, sessions in progress, drivers, cities, the newest audit
 * rows), so polling it twice a second costs little.
 *
 * Why hashes of every hot row rather than max(updated_at): a transaction stamps now() when it
 * starts but becomes visible when it commits, so a change can appear with a timestamp older
 * than one already seen; a sum of row hashes changes whenever any row does.
 */
import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "../../../db/client.ts";
import type { ServicesHealth } from "../shapes.ts";

/** Audit ids are taken at insert, not commit: a late commit lands below the newest id seen. */
const AUDIT_WINDOW = 1000;

export async function dataFingerprint(db: Db): Promise<string> {
  const result = await db.execute(sql`
    select concat_ws('|',
      (select count(*) || ':' || coalesce(sum(hashtext(cp_id || status || updated_at::text || coalesce(deregistered_at::text, ''))::bigint), 0) from charging_points),
      (select count(*) || ':' || coalesce(sum(hashtext(session_id || updated_at::text)::bigint), 0) from charging_sessions where status = 'IN_PROGRESS'),
      (select coalesce(max(id), 0) || ':' || count(*) from audit_events where id > (select coalesce(max(id), 0) - ${AUDIT_WINDOW} from audit_events)),
      (select count(*) || ':' || coalesce(sum(hashtext(driver_id || status || last_seen_at::text)::bigint), 0) from drivers),
      (select count(*) || ':' || coalesce(sum(hashtext(city || updated_at::text || alert::text)::bigint), 0) from city_weather)
    ) as fingerprint`);
  return rowsOf<{ fingerprint: string }>(result)[0]?.fingerprint ?? "";
}

/** Only what a person would notice: which services are up, not their latencies or uptimes. */
export function healthFingerprint(h: ServicesHealth): string {
  return h.services.map((s) => `${s.name}:${s.status}:${s.instances}`).join(",");
}
