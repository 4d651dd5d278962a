/** The whole picture the dashboard shows, read from the database at one moment. */
import type { Db } from "../../../db/client.ts";
import type { ServicesHealth, Snapshot } from "../shapes.ts";
import { recentAlerts, recentAuditEvents } from "../views/audit.ts";
import { listChargingPoints } from "../views/charging-points.ts";
import { listDrivers } from "../views/drivers.ts";
import { listSessions } from "../views/sessions.ts";
import { listCityWeather } from "../views/weather.ts";

const RECENT_SESSIONS = 10;
const RECENT_AUDIT_EVENTS = 15;
const RECENT_ALERTS = 8;

export async function buildSnapshot(db: Db, services: ServicesHealth): Promise<Snapshot> {
  const weather = await listCityWeather(db);
  const [chargingPoints, inProgress, finished, drivers, auditEvents, alerts] = await Promise.all([
    listChargingPoints(db, {}, weather),
    listSessions(db, { status: "IN_PROGRESS", limit: 500, offset: 0 }),
    listSessions(db, { status: "FINISHED", limit: RECENT_SESSIONS, offset: 0 }),
    listDrivers(db),
    recentAuditEvents(db, RECENT_AUDIT_EVENTS),
    recentAlerts(db, RECENT_ALERTS),
  ]);
  return {
    at: new Date().toISOString(),
    charging_points: chargingPoints,
    sessions_in_progress: inProgress.sessions,
    recent_sessions: finished.sessions,
    drivers,
    weather,
    services,
    alerts,
    audit_events: auditEvents,
  };
}
