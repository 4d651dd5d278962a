/**
 * The API's public reads against the real PostgreSQL: charging points, sessions and drivers in
 * the original's shapes, with filters and paging; bad input is a documented 4xx JSON error and
 * never a 500; nothing secret is ever shown.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as v from "valibot";
import { cpCredentials, cpKeys } from "../../src/db/schema/index.ts";
import { validate } from "../../src/lib/parsed.ts";
import {
  chargingPointListSchema,
  chargingPointSchema,
  cityWeatherListSchema,
  driverSchema,
  sessionListSchema,
  sessionSchema,
  snapshotSchema,
} from "../../src/roles/api/shapes.ts";
import { getJson, startTestApi, type TestApi } from "../support/api-server.ts";
import { seedAudit, seedChargingPoint, seedDriver, seedSession, seedWeather } from "../support/seed.ts";

let api: TestApi;
const SECRET_JTI = "jti-that-must-never-be-shown";
const SECRET_WRAPPED_KEY = "wrapped-key-that-must-never-be-shown";

beforeAll(async () => {
  api = await startTestApi();
  const db = api.seed.db;
  await seedChargingPoint(db, {
    cpId: "CP1",
    location: "madrid ",
    pricePerKwh: 0.35,
    status: "SUPPLYING",
    currentCredentialId: SECRET_JTI,
    lastConnectionTime: new Date(),
  });
  await seedChargingPoint(db, { cpId: "CP2", location: "Oslo", status: "OUT_OF_SERVICE", statusReason: "weather alert" });
  await seedChargingPoint(db, { cpId: "CP3", location: "Madrid", status: "ACTIVE" });
  await seedChargingPoint(db, { cpId: "CP-OLD", location: "Madrid", status: "DISCONNECTED", deregisteredAt: new Date() });
  await db.insert(cpCredentials).values({ jti: SECRET_JTI, cpId: "CP1", expiresAt: new Date(Date.now() + 3600_000) });
  await db.insert(cpKeys).values({ keyId: "kid-1", cpId: "CP1", wrappedKey: SECRET_WRAPPED_KEY });
  await seedWeather(db, "Madrid", 12.5);
  await seedWeather(db, "Oslo", -4);
  await seedDriver(db, "D1", "CHARGING");
  await seedDriver(db, "D2");
  await seedSession(db, {
    sessionId: "S-old",
    cpId: "CP3",
    driverId: "D1",
    status: "FINISHED",
    energyKwh: 10,
    costEur: 3,
    startedAt: new Date(Date.now() - 7200_000),
    endedAt: new Date(Date.now() - 3600_000),
    endReason: "driver_stop",
  });
  await seedSession(db, {
    sessionId: "S-mid",
    cpId: "CP3",
    driverId: "D2",
    status: "FINISHED",
    energyKwh: 2,
    costEur: 0.6,
    startedAt: new Date(Date.now() - 3000_000),
    endedAt: new Date(Date.now() - 2000_000),
    endReason: "unplugged",
  });
  await seedSession(db, {
    sessionId: "S-now",
    cpId: "CP1",
    driverId: "D1",
    pricePerKwh: 0.35,
    powerKw: 7.2,
    energyKwh: 1.5,
    costEur: 0.53,
    startedAt: new Date(Date.now() - 60_000),
  });
  await seedAudit(db, { eventType: "key", action: "issue_key", resource: "CP1", details: { key_id: "kid-1" } });
});

afterAll(async () => {
  await api?.stop();
});

describe("GET /ev/central/charging-points", () => {
  test("lists registered charging points in the original's shape, by id, leaving deregistered ones out", async () => {
    const { status, body } = await getJson(api, "/ev/central/charging-points");
    expect(status).toBe(200);
    expect(body.charging_points.map((cp: any) => cp.cp_id)).toEqual(["CP1", "CP2", "CP3"]);
    const cp1 = body.charging_points[0];
    expect(cp1).toMatchObject({ cp_id: "CP1", location: "madrid ", status: "SUPPLYING", price_per_kwh: 0.35 });
    expect(typeof cp1.created_at).toBe("string");
    expect(typeof cp1.last_connection_time).toBe("string");
    expect(body.charging_points[1].last_connection_time).toBeNull();
  });

  test("gives each charging point its location's temperature, however the city is spelled", async () => {
    const { body } = await getJson(api, "/ev/central/charging-points");
    const byId = Object.fromEntries(body.charging_points.map((cp: any) => [cp.cp_id, cp]));
    expect(byId.CP1).toMatchObject({ temperature_c: 12.5, weather_alert: false });
    expect(byId.CP2).toMatchObject({ temperature_c: -4, weather_alert: true, status_reason: "weather alert" });
  });

  test("shows the session in progress at a supplying charging point, and none elsewhere", async () => {
    const { body } = await getJson(api, "/ev/central/charging-points");
    const [cp1, cp2] = body.charging_points;
    expect(cp1.session).toMatchObject({ session_id: "S-now", driver_id: "D1", power_kw: 7.2, energy_kwh: 1.5, cost_eur: 0.53, status: "IN_PROGRESS" });
    expect(cp1.session.duration_s).toBeGreaterThanOrEqual(59);
    expect(cp2.session).toBeNull();
  });

  test("filters by state and by location", async () => {
    const active = await getJson(api, "/ev/central/charging-points?status=ACTIVE");
    expect(active.body.charging_points.map((cp: any) => cp.cp_id)).toEqual(["CP3"]);
    const madrid = await getJson(api, "/ev/central/charging-points?location=MADRID");
    expect(madrid.body.charging_points.map((cp: any) => cp.cp_id)).toEqual(["CP1", "CP3"]);
  });

  test("refuses an unknown state with a 422 that names the field", async () => {
    const { status, body } = await getJson(api, "/ev/central/charging-points?status=FLYING");
    expect(status).toBe(422);
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.details[0].field).toBe("status");
  });

  test("refuses a location with a control character with a 422 that names the field, not a 500", async () => {
    for (const path of ["/ev/central/charging-points?location=Mad%00rid", "/ev/central/all-charging-points?location=Madrid%1B"]) {
      const { status, body } = await getJson(api, path);
      expect(status).toBe(422);
      expect(body.error.details[0]).toEqual({ field: "location", message: "location must not contain control characters" });
    }
  });

  test("never shows credentials or keys", async () => {
    for (const path of ["/ev/central/charging-points", "/ev/central/all-charging-points", "/ev/central/charging-points/CP1"]) {
      const res = await fetch(`${api.url}${path}`);
      const text = await res.text();
      expect(res.status).toBe(200);
      expect(text).not.toContain(SECRET_JTI);
      expect(text).not.toContain(SECRET_WRAPPED_KEY);
      expect(text).not.toContain("credential");
      expect(text).not.toContain("wrapped");
    }
  });
});

describe("GET /ev/central/all-charging-points", () => {
  test("includes deregistered charging points with the time they left", async () => {
    const { status, body } = await getJson(api, "/ev/central/all-charging-points");
    expect(status).toBe(200);
    const old = body.charging_points.find((cp: any) => cp.cp_id === "CP-OLD");
    expect(typeof old.deregistered_at).toBe("string");
    expect(body.charging_points).toHaveLength(4);
  });
});

describe("GET /ev/central/charging-points/:cp_id", () => {
  test("shows one charging point", async () => {
    const { status, body } = await getJson(api, "/ev/central/charging-points/CP2");
    expect(status).toBe(200);
    expect(body.charging_point).toMatchObject({ cp_id: "CP2", location: "Oslo", status: "OUT_OF_SERVICE" });
  });

  test("answers 404 not_found for an unknown id", async () => {
    const { status, body } = await getJson(api, "/ev/central/charging-points/NOPE");
    expect(status).toBe(404);
    expect(body.error.code).toBe("not_found");
    expect(body.error.message).toContain("NOPE");
  });

  test("answers 422 for an id that cannot be a charging point's", async () => {
    const { status, body } = await getJson(api, `/ev/central/charging-points/${encodeURIComponent("bad id!")}`);
    expect(status).toBe(422);
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.details[0].field).toBe("cp_id");
  });
});

describe("GET /ev/central/sessions", () => {
  test("lists sessions newest first with the total that match", async () => {
    const { status, body } = await getJson(api, "/ev/central/sessions");
    expect(status).toBe(200);
    expect(body.sessions.map((s: any) => s.session_id)).toEqual(["S-now", "S-mid", "S-old"]);
    expect(body.paging).toEqual({ limit: 50, offset: 0, total: 3 });
    expect(body.sessions[2]).toMatchObject({ status: "FINISHED", end_reason: "driver_stop", duration_s: 3600 });
  });

  test("shows sessions in progress apart from history", async () => {
    const live = await getJson(api, "/ev/central/sessions?status=IN_PROGRESS");
    expect(live.body.sessions.map((s: any) => s.session_id)).toEqual(["S-now"]);
    const history = await getJson(api, "/ev/central/sessions?status=FINISHED");
    expect(history.body.sessions.map((s: any) => s.session_id)).toEqual(["S-mid", "S-old"]);
  });

  test("filters by charging point and by driver", async () => {
    const atCp3 = await getJson(api, "/ev/central/sessions?cp_id=CP3");
    expect(atCp3.body.sessions.map((s: any) => s.session_id)).toEqual(["S-mid", "S-old"]);
    const ofD1 = await getJson(api, "/ev/central/sessions?driver_id=D1");
    expect(ofD1.body.sessions.map((s: any) => s.session_id)).toEqual(["S-now", "S-old"]);
  });

  test("pages with limit and offset", async () => {
    const { body } = await getJson(api, "/ev/central/sessions?limit=1&offset=1");
    expect(body.sessions.map((s: any) => s.session_id)).toEqual(["S-mid"]);
    expect(body.paging).toEqual({ limit: 1, offset: 1, total: 3 });
  });

  test.each([
    ["limit=0", "limit"],
    ["limit=abc", "limit"],
    ["limit=100000", "limit"],
    ["limit=1&limit=2", "limit"],
    ["offset=-1", "offset"],
    ["status=DONE", "status"],
    ["cp_id=%20", "cp_id"],
  ])("refuses ?%s with a 422 naming %s", async (query, field) => {
    const { status, body } = await getJson(api, `/ev/central/sessions?${query}`);
    expect(status).toBe(422);
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.details.map((d: any) => d.field)).toContain(field);
  });
});

describe("GET /ev/central/sessions/:session_id", () => {
  test("shows one session", async () => {
    const { status, body } = await getJson(api, "/ev/central/sessions/S-mid");
    expect(status).toBe(200);
    expect(body.session).toMatchObject({ session_id: "S-mid", cp_id: "CP3", driver_id: "D2", energy_kwh: 2, end_reason: "unplugged" });
  });

  test("answers 404 for an unknown session and 422 for an impossible id", async () => {
    const unknown = await getJson(api, "/ev/central/sessions/S-nope");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("not_found");
    const impossible = await getJson(api, `/ev/central/sessions/${"x".repeat(200)}`);
    expect(impossible.status).toBe(422);
  });
});

describe("GET /ev/central/drivers", () => {
  test("lists drivers with their state, session in progress and totals", async () => {
    const { status, body } = await getJson(api, "/ev/central/drivers");
    expect(status).toBe(200);
    const [d1, d2] = body.drivers;
    expect(d1).toMatchObject({ driver_id: "D1", status: "CHARGING", sessions_count: 2, energy_kwh_total: 11.5, cost_eur_total: 3.53 });
    expect(d1.session.session_id).toBe("S-now");
    expect(d2).toMatchObject({ driver_id: "D2", status: "IDLE", sessions_count: 1, session: null });
  });
});

describe("GET /ev/central/drivers/:driver_id", () => {
  test("shows one driver and their newest sessions", async () => {
    const { status, body } = await getJson(api, "/ev/central/drivers/D1?sessions=1");
    expect(status).toBe(200);
    expect(body.driver.driver_id).toBe("D1");
    expect(body.sessions.map((s: any) => s.session_id)).toEqual(["S-now"]);
  });

  test("answers 404 for an unknown driver, 422 for a bad id or a bad count", async () => {
    expect((await getJson(api, "/ev/central/drivers/D9")).status).toBe(404);
    expect((await getJson(api, `/ev/central/drivers/${encodeURIComponent("<script>")}`)).status).toBe(422);
    const badCount = await getJson(api, "/ev/central/drivers/D1?sessions=-1");
    expect(badCount.status).toBe(422);
    expect(badCount.body.error.details[0].field).toBe("sessions");
  });
});

describe("the shapes the API declares", () => {
  test("are the shapes of its answers, which its clients validate against", async () => {
    const shapes: [string, v.GenericSchema][] = [
      ["/ev/central/charging-points", chargingPointListSchema],
      ["/ev/central/all-charging-points", chargingPointListSchema],
      ["/ev/central/charging-points/CP1", v.object({ charging_point: chargingPointSchema })],
      ["/ev/central/sessions", sessionListSchema],
      ["/ev/central/sessions/S-now", v.object({ session: sessionSchema })],
      ["/ev/central/drivers", v.object({ drivers: v.array(driverSchema) })],
      ["/ev/central/city-temperature", cityWeatherListSchema],
      ["/ev/central/snapshot", snapshotSchema],
    ];
    for (const [path, schema] of shapes) {
      const { status, body } = await getJson(api, path);
      expect(status).toBe(200);
      expect({ path, ...validate(schema, body) }).toMatchObject({ path, ok: true });
    }
  });
});

describe("errors", () => {
  test("an unknown route is a JSON 404", async () => {
    const { status, type, body } = await getJson(api, "/ev/central/no-such-thing");
    expect(status).toBe(404);
    expect(type).toContain("application/json");
    expect(body.error.code).toBe("not_found");
  });

  test("a write to a read-only resource is a JSON 404, and a body sent with a read is ignored", async () => {
    const write = await getJson(api, "/ev/central/sessions", { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(write.status).toBe(404);
    expect(write.body.error.code).toBe("not_found");
    const read = await getJson(api, "/ev/central/drivers", { method: "GET", headers: { "content-type": "application/json" } });
    expect(read.status).toBe(200);
  });
});
