/** The whole picture the dashboard shows, read from the database at one moment. */
import type { Db } from "../../../db/client.ts";
import type { ServicesHealth, Snapshot } from "../shapes.ts";
import { recentAlerts, recentAuditEvents } from "../views/audit.ts";
import { recentDrivers } from "../views/drivers.ts";
import { listSessions } from "../views/sessions.ts";
import { networkSummary } from "../views/summary.ts";
import { listCityWeather } from "../views/weather.ts";

const RECENT_SESSIONS = 10;
const RECENT_AUDIT_EVENTS = 15;
const RECENT_ALERTS = 8;
const SESSIONS_IN_PROGRESS = 50;
const DRIVERS = 50;

export async function buildSnapshot(db: Db, services: ServicesHealth): Promise<Snapshot> {
  const [summary, weather, inProgress, finished, drivers, auditEvents, alerts] = await Promise.all([
    networkSummary(db),
    listCityWeather(db),
    listSessions(db, { status: "IN_PROGRESS", limit: SESSIONS_IN_PROGRESS, offset: 0 }),
    listSessions(db, { status: "FINISHED", limit: RECENT_SESSIONS, offset: 0 }),
    recentDrivers(db, DRIVERS),
    recentAuditEvents(db, RECENT_AUDIT_EVENTS),
    recentAlerts(db, RECENT_ALERTS),
  ]);
  return {
    at: new Date().toISOString(),
    summary,
    sessions_in_progress: inProgress.sessions,
    recent_sessions: finished.sessions,
    drivers,
    weather,
    services,
    alerts,
    audit_events: auditEvents,
  };
}
