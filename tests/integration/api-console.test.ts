/**
 * The console's endpoints over a real PostgreSQL: the summary counted by the database, the fleet's
 * search, filters, sorting and paging, a charger's details and readings, the session filters with
 * totals and the CSV export, the map and cities' places, and operator sign-in — with the answers
 * that must be refusals (422 for bad filters, 404 for unknown chargers, 401 for wrong tokens,
 * audited), never 5xx.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import { auditEvents } from "../../src/db/schema/index.ts";
import { csvField } from "../../src/roles/api/routes/sessions-csv.ts";
import { getJson, startTestApi, TEST_OPERATOR_TOKEN, TEST_SERVICE_TOKEN, type TestApi } from "../support/api-server.ts";
import { seedAudit, seedChargingPoint, seedDriver, seedSession, seedWeather } from "../support/seed.ts";

let api: TestApi;
const operator = { authorization: `Bearer ${TEST_OPERATOR_TOKEN}`, "content-type": "application/json" };

beforeAll(async () => {
  api = await startTestApi();
  const db = api.seed.db;
  await seedChargingPoint(db, { cpId: "CP_1", location: "Madrid", pricePerKwh: 0.4, status: "SUPPLYING" });
  await seedChargingPoint(db, { cpId: "CP_2", location: "  madrid ", pricePerKwh: 0.2, status: "ACTIVE" });
  await seedChargingPoint(db, { cpId: "CP_3", location: "Oslo", pricePerKwh: 0.3, status: "OUT_OF_SERVICE" });
  await seedChargingPoint(db, { cpId: "CP_100%", location: "=cmd()", status: "BROKEN" });
  await seedChargingPoint(db, { cpId: "CP_GONE", location: "Madrid", deregisteredAt: new Date() });
  await seedWeather(db, "Oslo", -4);
  await seedDriver(db, "D1", "CHARGING");
  await seedDriver(db, "D2");
  await seedSession(db, {
    sessionId: "S-live",
    cpId: "CP_1",
    driverId: "D1",
    powerKw: 11,
    energyKwh: 2,
    costEur: 0.8,
    startedAt: new Date(Date.now() - 60_000),
  });
  await seedSession(db, {
    sessionId: "S-old",
    cpId: "CP_2",
    driverId: "D2",
    status: "FINISHED",
    energyKwh: 5,
    costEur: 1,
    startedAt: new Date("2026-01-10T10:00:00Z"),
    endedAt: new Date("2026-01-10T10:30:00Z"),
    endReason: "unplugged",
  });
  await seedSession(db, {
    sessionId: "S-odd",
    cpId: "CP_100%",
    driverId: "D2",
    status: "FINISHED",
    energyKwh: 1,
    costEur: 0.3,
    startedAt: new Date("2026-01-09T10:00:00Z"),
    endedAt: new Date("2026-01-09T10:10:00Z"),
    endReason: "fault",
  });
});

afterAll(() => api?.stop());

describe("GET /ev/central/summary", () => {
  test("counts the registered chargers per state, frost, sessions and drivers", async () => {
    const { status, body } = await getJson(api, "/ev/central/summary");
    expect(status).toBe(200);
    expect(body.summary).toMatchObject({
      charging_points: 4,
      in_frost: 1,
      sessions_in_progress: 1,
      power_kw: 11,
      energy_in_progress_kwh: 2,
      drivers: 2,
      drivers_charging: 1,
    });
    expect(body.summary.by_state).toEqual({ ACTIVE: 1, SUPPLYING: 1, STOPPED: 0, OUT_OF_SERVICE: 1, BROKEN: 1, DISCONNECTED: 0 });
  });
});

describe("GET /ev/central/fleet", () => {
  test("searches ids and cities, case ignored, a typed % matching only itself", async () => {
    expect((await getJson(api, "/ev/central/fleet?q=MADRID")).body.charging_points.map((c: any) => c.cp_id)).toEqual(["CP_1", "CP_2"]);
    expect((await getJson(api, "/ev/central/fleet?q=100%25")).body.charging_points.map((c: any) => c.cp_id)).toEqual(["CP_100%"]);
    expect((await getJson(api, "/ev/central/fleet?q=")).body.paging.total).toBe(4); // an empty search is no search
  });

  test("filters by city (spaces and case ignored), state and frost, with the filter's counts per state", async () => {
    const { body } = await getJson(api, "/ev/central/fleet?city=MADRID&status=ACTIVE");
    expect(body.charging_points.map((c: any) => c.cp_id)).toEqual(["CP_2"]);
    expect(body.counts_by_state).toMatchObject({ ACTIVE: 1, SUPPLYING: 1, OUT_OF_SERVICE: 0 });
    expect((await getJson(api, "/ev/central/fleet?frost=true")).body.charging_points.map((c: any) => c.cp_id)).toEqual(["CP_3"]);
  });

  test("sorts and pages without overlap, the session in progress on its charger", async () => {
    const byPrice = (await getJson(api, "/ev/central/fleet?sort=price&order=desc")).body.charging_points.map((c: any) => c.price_per_kwh);
    expect(byPrice).toEqual([...byPrice].sort((a: number, b: number) => b - a));
    const power = (await getJson(api, "/ev/central/fleet?sort=power&order=desc&limit=1")).body;
    expect(power.charging_points[0]).toMatchObject({ cp_id: "CP_1", session: { session_id: "S-live", power_kw: 11 } });
    const first = (await getJson(api, "/ev/central/fleet?limit=2")).body;
    const second = (await getJson(api, "/ev/central/fleet?limit=2&offset=2")).body;
    expect([...first.charging_points, ...second.charging_points].map((c: any) => c.cp_id)).toEqual(["CP_1", "CP_100%", "CP_2", "CP_3"]);
    expect(first.paging).toEqual({ limit: 2, offset: 0, total: 4 });
  });

  test("refuses bad filters with 422 naming each field", async () => {
    for (const [query, field] of [
      ["status=FLYING", "status"],
      ["sort=colour", "sort"],
      ["order=up", "order"],
      ["limit=0", "limit"],
      ["limit=201", "limit"],
      ["offset=-1", "offset"],
      ["frost=maybe", "frost"],
      [`q=${encodeURIComponent("a\u0007b")}`, "q"],
      [`city=${"x".repeat(101)}`, "city"],
    ] as const) {
      const { status, body } = await getJson(api, `/ev/central/fleet?${query}`);
      expect(status, query).toBe(422);
      expect(body.error.details.map((d: any) => d.field)).toContain(field);
    }
  });
});

describe("a charger's details and readings", () => {
  test("say how it talks, its key's age, its place and its state history; 404 for an unknown one", async () => {
    await seedAudit(api.seed.db, {
      resource: "cp/CP_1",
      actorType: "cp",
      actorId: "CP_1",
      action: "change_state",
      details: { from: "ACTIVE", to: "SUPPLYING" },
      reason: "session S-live",
    });
    const { status, body } = await getJson(api, "/ev/central/charging-points/CP_1/details");
    expect(status).toBe(200);
    expect(body.protocol.name).toBe("evnet");
    expect(body.key).toBeNull(); // never authenticated here
    expect(body.state_history[0]).toMatchObject({ from: "ACTIVE", to: "SUPPLYING", reason: "session S-live" });
    expect(JSON.stringify(body)).not.toContain("wrapped");
    expect((await getJson(api, "/ev/central/charging-points/NOPE/details")).status).toBe(404);
    expect((await getJson(api, "/ev/central/charging-points/NOPE/readings")).status).toBe(404);
    expect((await getJson(api, "/ev/central/charging-points/bad%20id/details")).status).toBe(422);
  });

  test("draw a session from its start through kept readings to its latest figures", async () => {
    const { body } = await getJson(api, "/ev/central/charging-points/CP_1/readings");
    expect(body.session.session_id).toBe("S-live");
    expect(body.session.points[0]).toMatchObject({ power_kw: 0, energy_kwh: 0 });
    expect(body.session.points.at(-1)).toMatchObject({ power_kw: 11, energy_kwh: 2 });
    expect((await getJson(api, "/ev/central/charging-points/CP_3/readings")).body).toMatchObject({ session: null, day: { points: [] } });
  });
});

describe("session history", () => {
  test("filters by city, time, driver and end reason, and adds the matches up", async () => {
    const city = (await getJson(api, "/ev/central/sessions?city=madrid")).body;
    expect(city.sessions.map((s: any) => s.session_id)).toEqual(["S-live", "S-old"]);
    expect(city.totals).toMatchObject({ sessions: 2, energy_kwh: 7, cost_eur: 1.8 });
    const range = (await getJson(api, "/ev/central/sessions?from=2026-01-10T00:00:00Z&to=2026-01-11T00:00:00Z")).body;
    expect(range.sessions.map((s: any) => s.session_id)).toEqual(["S-old"]);
    expect((await getJson(api, "/ev/central/sessions?end_reason=fault&driver_id=D2")).body.sessions.map((s: any) => s.session_id)).toEqual(["S-odd"]);
    expect((await getJson(api, "/ev/central/sessions?driver_id=NOBODY")).body).toMatchObject({ sessions: [], totals: { sessions: 0, energy_kwh: 0 } });
  });

  test("refuses bad filters with 422", async () => {
    for (const query of ["end_reason=boredom", "from=yesterday", "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "cp_id=a%20b", "status=DONE"]) {
      const { status } = await getJson(api, `/ev/central/sessions?${query}`);
      expect(status, query).toBe(422);
      expect((await fetch(`${api.url}/ev/central/sessions.csv?${query}`)).status, query).toBe(422);
    }
  });

  test("exports the matches as CSV, quoting what needs it and defusing spreadsheet formulas", async () => {
    const res = await fetch(`${api.url}/ev/central/sessions.csv?driver_id=D2`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/csv");
    expect(res.headers.get("content-disposition")).toMatch(/attachment; filename="evnet-sessions-\d{4}-\d{2}-\d{2}\.csv"/);
    const lines = (await res.text()).trim().split("\r\n");
    expect(lines).toHaveLength(3);
    expect(lines[1]).toStartWith("S-old,CP_2,  madrid ,D2,FINISHED,2026-01-10T10:00:00.000Z,2026-01-10T10:30:00.000Z,1800,5,0.3,1,unplugged");
    expect(lines[2]).toContain(",'=cmd(),");
    expect(csvField('say "hi", then\nleave')).toBe('"say ""hi"", then\nleave"');
    expect(csvField(-3)).toBe("-3");
    expect(csvField("-3")).toBe("'-3");
    expect((await (await fetch(`${api.url}/ev/central/sessions.csv?driver_id=NOBODY`)).text()).trim().split("\r\n")).toHaveLength(1);
  });
});

describe("the map and cities' places", () => {
  test("places a city from the weather report, lists the others as unplaced", async () => {
    const report = { city: "Madrid", temperature_c: 15, latitude: 40.4, longitude: -3.7 };
    const put = await fetch(`${api.url}/ev/central/city-temperature`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TEST_SERVICE_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(report),
    });
    expect(put.status).toBe(200);
    const { body } = await getJson(api, "/ev/central/map");
    expect(body.cities).toEqual([
      expect.objectContaining({ city: "Madrid", latitude: 40.4, longitude: -3.7, source: "weather", charging_points: 2, temperature_c: 15, frost: false }),
    ]);
    expect(body.cities[0].by_state).toMatchObject({ ACTIVE: 1, SUPPLYING: 1 });
    expect(body.unplaced.map((c: any) => c.city).sort()).toEqual(["=cmd()", "Oslo"]);
  });

  test("an operator's place wins over the provider's; a bad or unauthorised one is refused and audited", async () => {
    const set = (body: unknown, headers: Record<string, string> = operator) =>
      fetch(`${api.url}/ev/central/city-coordinates`, { method: "PUT", headers, body: JSON.stringify(body) });
    expect((await set({ city: "madrid", latitude: 40.42, longitude: -3.71 })).status).toBe(200);
    await fetch(`${api.url}/ev/central/city-temperature`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TEST_SERVICE_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ city: "Madrid", temperature_c: 16, latitude: 1, longitude: 1 }),
    });
    const madrid = (await getJson(api, "/ev/central/map")).body.cities.find((c: any) => c.city.toLowerCase() === "madrid");
    expect(madrid).toMatchObject({ latitude: 40.42, longitude: -3.71, source: "operator" });

    expect((await set({ city: "Oslo", latitude: 91, longitude: 0 })).status).toBe(422);
    expect((await set({ city: "Oslo", latitude: 59.9 })).status).toBe(422);
    expect(
      (await set({ city: "Oslo", latitude: 59.9, longitude: 10.7 }, { authorization: "Bearer wrong-token", "content-type": "application/json" })).status,
    ).toBe(401);
    const temp = await fetch(`${api.url}/ev/central/city-temperature`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TEST_SERVICE_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ city: "Oslo", temperature_c: -4, latitude: 59.9 }),
    });
    expect(temp.status).toBe(422); // latitude without longitude
    const refused = await api.seed.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "set_city_coordinates"), eq(auditEvents.outcome, "failure")));
    expect(refused.length).toBeGreaterThanOrEqual(2);
  });
});

describe("POST /ev/central/operator/sign-in", () => {
  test("accepts the operator token, refuses others with 401, and audits both", async () => {
    const ok = await fetch(`${api.url}/ev/central/operator/sign-in`, { method: "POST", headers: { authorization: `Bearer ${TEST_OPERATOR_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ role: "operator" });
    for (const headers of [{ authorization: "Bearer not-it" }, { authorization: `Bearer ${TEST_SERVICE_TOKEN}` }, {}] as Record<string, string>[]) {
      const res = await fetch(`${api.url}/ev/central/operator/sign-in`, { method: "POST", headers });
      expect(res.status).toBe(401);
    }
    const audits = await api.seed.db.select().from(auditEvents).where(eq(auditEvents.resource, "/ev/central/operator/sign-in"));
    expect(audits.map((a) => a.reason).sort()).toEqual(["missing token", "wrong token", "wrong token"]);
    const signedIn = await api.seed.db.select().from(auditEvents).where(eq(auditEvents.action, "sign_in"));
    expect(signedIn).toHaveLength(1);
  });
});
