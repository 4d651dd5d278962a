/**
 * One page of chargers, searched, filtered and sorted by the database, so that the console
 * stays fast however many chargers the network has: only the page travels and is drawn.
 */
import { and, count, eq, ilike, isNull, or, type SQL, sql } from "drizzle-orm";
import { cityKeySql, sameCitySql } from "../../../db/city-key.ts";
import type { Db } from "../../../db/client.ts";
import { inFrostSql } from "../../../db/repos/weather.ts";
import { chargingPoints } from "../../../db/schema/index.ts";
import type { CpState } from "../../../domain/cp-state.ts";
import type { CountsByState, FleetSort } from "../console-shapes.ts";
import type { ChargingPointView } from "../shapes.ts";
import { ocppRowsOf, toChargingPointView } from "./charging-points.ts";
import type { ProtocolName } from "./protocol.ts";
import { sessionsInProgress } from "./sessions.ts";
import { countsByState } from "./summary.ts";
import { listCityWeather, weatherByCity } from "./weather.ts";

export interface FleetQuery {
  /** Part of a charger's id or city, case ignored. */
  q?: string;
  status?: CpState;
  /** A city, matched as the weather office matches them. */
  city?: string;
  /** Only chargers in a city under a frost alert. */
  frost?: boolean;
  /** evnet, ocpp (any version) or one OCPP version. */
  protocol?: ProtocolName;
  sort: FleetSort;
  order: "asc" | "desc";
  limit: number;
  offset: number;
}

/** `%` and `_` typed by a person are letters, not wildcards. */
function containing(text: string): string {
  return `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

const powerNow = sql`(select s.power_kw from charging_sessions s where s.cp_id = ${chargingPoints.cpId} and s.status = 'IN_PROGRESS')`;

function orderOf(sort: FleetSort, order: "asc" | "desc"): SQL[] {
  const dir = order === "desc" ? sql`desc` : sql`asc`;
  const first: Record<FleetSort, SQL> = {
    cp_id: sql`${chargingPoints.cpId} ${dir}`,
    city: sql`${cityKeySql(chargingPoints.location)} ${dir}`,
    status: sql`${chargingPoints.status} ${dir}`,
    price: sql`${chargingPoints.pricePerKwh} ${dir}`,
    changed: sql`${chargingPoints.statusChangedAt} ${dir}`,
    power: sql`${powerNow} ${dir} nulls last`,
  };
  // The id breaks ties, so pages never overlap or skip.
  return sort === "cp_id" ? [first.cp_id] : [first[sort], sql`${chargingPoints.cpId} asc`];
}

function conditionsOf(q: FleetQuery, withStatus: boolean): SQL | undefined {
  const conditions: (SQL | undefined)[] = [isNull(chargingPoints.deregisteredAt)];
  if (q.q) conditions.push(or(ilike(chargingPoints.cpId, containing(q.q)), ilike(chargingPoints.location, containing(q.q))));
  if (q.city) conditions.push(sameCitySql(chargingPoints.location, q.city));
  if (q.frost !== undefined) conditions.push(q.frost ? inFrostSql(chargingPoints.location) : sql`not ${inFrostSql(chargingPoints.location)}`);
  if (q.protocol) conditions.push(protocolIs(q.protocol));
  if (withStatus && q.status) conditions.push(eq(chargingPoints.status, q.status));
  return and(...conditions);
}

function protocolIs(name: ProtocolName): SQL | undefined {
  if (name === "evnet" || name === "ocpp") return eq(chargingPoints.protocol, name);
  return and(eq(chargingPoints.protocol, "ocpp"), eq(chargingPoints.protocolVersion, name.slice("ocpp".length)));
}

export async function fleetPage(db: Db, q: FleetQuery): Promise<{ chargingPoints: ChargingPointView[]; total: number; countsByState: CountsByState }> {
  const where = conditionsOf(q, true);
  const [rows, [totals], states, weather] = await Promise.all([
    db
      .select()
      .from(chargingPoints)
      .where(where)
      .orderBy(...orderOf(q.sort, q.order))
      .limit(q.limit)
      .offset(q.offset),
    db.select({ n: count() }).from(chargingPoints).where(where),
    db.select({ status: chargingPoints.status, n: count() }).from(chargingPoints).where(conditionsOf(q, false)).groupBy(chargingPoints.status),
    listCityWeather(db),
  ]);
  const [sessions, ocppOf] = await Promise.all([
    rows.length
      ? sessionsInProgress(
          db,
          rows.map((r) => r.cpId),
        )
      : [],
    ocppRowsOf(db, rows),
  ]);
  const byCp = new Map(sessions.map((s) => [s.cp_id, s]));
  const byCity = weatherByCity(weather);
  return {
    chargingPoints: rows.map((r) => toChargingPointView(r, byCity, byCp, ocppOf.get(r.cpId))),
    total: Number(totals?.n ?? 0),
    countsByState: countsByState(Object.fromEntries(states.map((s) => [s.status, s.n]))),
  };
}
