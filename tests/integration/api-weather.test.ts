/**
 * The API's weather endpoints against the real PostgreSQL and Kafka: reports are stored, alert
 * changes audited and handed to Central on the control topic; bad input and missing tokens get
 * a 4xx JSON error and change nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { type BusMessage, type Subscription, textDecoder } from "../../src/bus/bus.ts";
import { KafkaBus } from "../../src/bus/kafka.ts";
import { allTopics, topicsFor } from "../../src/bus/topics.ts";
import { loadConfig } from "../../src/config/env.ts";
import { apiConfigSchema } from "../../src/roles/api/config.ts";
import { start } from "../../src/roles/api/index.ts";
import { controlKeyEnv, readControl } from "../support/control.ts";
import { createTestDatabase, kafkaBrokers, type TestDatabase, testTopicPrefix } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

const SERVICE = "service-token-for-weather-tests";
const OPERATOR = "operator-token-for-weather-tests";

let database: TestDatabase;
let sql: postgres.Sql;
let api: { url: string; stop(): Promise<void> };
let observer: KafkaBus;
let subscription: Subscription;
const control: BusMessage[] = [];
const prefix = testTopicPrefix();

function apiConfig(overrides: Record<string, string> = {}) {
  return loadConfig(
    apiConfigSchema,
    {},
    {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: kafkaBrokers().join(","),
      EVNET_TOPIC_PREFIX: prefix,
      API_PORT: "0",
      EVNET_SERVICE_TOKEN: SERVICE,
      EVNET_OPERATOR_TOKEN: OPERATOR,
      EVNET_MASTER_KEY: "a-master-key-passphrase-for-weather-tests",
      ...controlKeyEnv(),
      ...overrides,
    },
  );
}

beforeAll(async () => {
  database = await createTestDatabase();
  observer = new KafkaBus({ brokers: kafkaBrokers(), clientId: "weather-api-test", sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 });
  await observer.ensureTopics(allTopics(topicsFor(prefix)));
  subscription = await observer.subscribe({ topics: [topicsFor(prefix).centralControl], groupId: `${prefix}-observer`, from: "earliest" }, async (batch) => {
    control.push(...batch);
  });
  api = await start(apiConfig());
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
});

afterAll(async () => {
  await api?.stop();
  await subscription?.close();
  await observer?.close();
  await sql?.end();
  await database?.drop();
});

type Init = { token?: string; body?: unknown; raw?: string; contentType?: string };
async function call(method: string, path: string, init: Init = {}) {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined || init.raw !== undefined) headers["content-type"] = init.contentType ?? "application/json";
  const res = await fetch(`${api.url}/ev/central${path}`, {
    method,
    headers,
    body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const report = (city: string, temperature_c: unknown, extra: Record<string, unknown> = {}) =>
  call("PUT", "/city-temperature", { token: SERVICE, body: { city, temperature_c, ...extra } });

const auditRows = (resource: string) =>
  sql<{ event_type: string; action: string; outcome: string; reason: string; actor_type: string; details: Record<string, unknown> }[]>`
    select event_type, action, outcome, reason, actor_type, details from audit_events where resource = ${resource} order by id`;

const controlFor = (city: string) => control.filter((m) => m.key === city).map((m) => readControl(m) ?? { unparsable: textDecoder.decode(m.value) });

describe("PUT /ev/central/city-temperature", () => {
  test("stores a city below zero as a frost alert, audits it and tells Central", async () => {
    const res = await report("Oslo", -3.5, { critical_c: 0, source: "offline" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ city: "Oslo", temperature_c: -3.5, alert: true, transition: "alert_started" });
    expect(res.body.alert_since).toBeString();

    const audits = await auditRows("city/Oslo");
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ event_type: "weather", action: "alert_started", outcome: "success", actor_type: "service" });

    await waitFor(() => controlFor("Oslo").length >= 1, "the control message for Oslo");
    expect(controlFor("Oslo")[0]).toMatchObject({ type: "city_temperature", city: "Oslo", alert: true });
    // The temperature itself stays off the bus: Central reads it from the database.
    expect(controlFor("Oslo")[0]).not.toHaveProperty("temperature_c");
  });

  test("keeps the alert (and when it started) while the city stays below zero, without auditing it again", async () => {
    const before = (await call("GET", "/city-temperature/Oslo")).body;
    const res = await report("Oslo", -6);
    expect(res.body).toMatchObject({ alert: true, transition: "alert_continues", alert_since: before.alert_since });
    expect(await auditRows("city/Oslo")).toHaveLength(1);
    await waitFor(() => controlFor("Oslo").length >= 2, "the second control message for Oslo");
  });

  test("cancels the alert at zero degrees, audits it and tells Central", async () => {
    const res = await report("oslo", 0);
    expect(res.body).toMatchObject({ city: "Oslo", alert: false, alert_since: null, transition: "alert_cancelled" });
    const audits = await auditRows("city/Oslo");
    expect(audits.map((a) => a.action)).toEqual(["alert_started", "alert_cancelled"]);
    await waitFor(() => controlFor("Oslo").some((m) => "alert" in m && m.alert === false), "the cancellation for Oslo");
  });

  test("reports a mild city without an alert", async () => {
    const res = await report("Madrid", 18.2);
    expect(res.body).toMatchObject({ city: "Madrid", alert: false, transition: "no_alert" });
    expect(await auditRows("city/Madrid")).toHaveLength(0);
  });

  test("applies the reporter's critical temperature", async () => {
    const res = await report("Reykjavik", 2, { critical_c: 3 });
    expect(res.body).toMatchObject({ alert: true, transition: "alert_started" });
  });

  test("accepts the operator's token too, and audits the operator as the actor", async () => {
    const res = await call("PUT", "/city-temperature", { token: OPERATOR, body: { city: "Helsinki", temperature_c: -10 } });
    expect(res.status).toBe(200);
    expect((await auditRows("city/Helsinki"))[0]).toMatchObject({ actor_type: "operator", action: "alert_started" });
  });

  test("refuses a report without a token, and audits the attempt", async () => {
    const res = await call("PUT", "/city-temperature", { body: { city: "Nowhere", temperature_c: -40 } });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("unauthorized");
    const [attempt] =
      await sql`select outcome, reason from audit_events where event_type = 'security' and action = 'PUT /ev/central/city-temperature' order by id desc limit 1`;
    expect(attempt).toMatchObject({ outcome: "failure", reason: "missing token" });
  });

  test("refuses a report with a wrong token", async () => {
    const res = await call("PUT", "/city-temperature", { token: "not-the-service-token-at-all", body: { city: "Nowhere", temperature_c: -40 } });
    expect(res.status).toBe(401);
  });

  test("refuses malformed JSON with a 400", async () => {
    const res = await call("PUT", "/city-temperature", { token: SERVICE, raw: '{"city": "Nowhere", "temperature_c": ' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("bad_request");
  });

  test("refuses a body that is not JSON with a 400", async () => {
    const res = await call("PUT", "/city-temperature", {
      token: SERVICE,
      raw: "city=Nowhere&temperature_c=-4",
      contentType: "application/x-www-form-urlencoded",
    });
    expect(res.status).toBe(400);
  });

  test("refuses a temperature that is not a number, naming the field", async () => {
    const res = await report("Nowhere", "freezing");
    expect(res.status).toBe(422);
    expect(res.body.error.details).toContainEqual(expect.objectContaining({ field: "temperature_c" }));
  });

  test("refuses an impossible temperature, a missing city and an empty city", async () => {
    expect((await report("Nowhere", 1e6)).status).toBe(422);
    expect((await call("PUT", "/city-temperature", { token: SERVICE, body: { temperature_c: -4 } })).status).toBe(422);
    expect((await report("   ", -4)).status).toBe(422);
  });

  test("stores nothing from refused reports", async () => {
    expect((await call("GET", "/city-temperature/Nowhere")).status).toBe(404);
  });
});

describe("GET /ev/central/city-temperature", () => {
  test("lists every reported city, alerts first, with its registered CPs counted", async () => {
    await sql`insert into charging_points (cp_id, location, price_per_kwh) values ('CP-HEL-1', 'helsinki', 0.3), ('CP-HEL-2', 'Helsinki', 0.3)`;
    const res = await call("GET", "/city-temperature");
    expect(res.status).toBe(200);
    const cities = res.body.cities as { city: string; alert: boolean; cp_count: number }[];
    expect(cities.map((c) => c.city).sort()).toEqual(["Helsinki", "Madrid", "Oslo", "Reykjavik"]);
    expect(cities.slice(0, 2).every((c) => c.alert)).toBe(true);
    expect(cities.find((c) => c.city === "Helsinki")?.cp_count).toBe(2);
    expect(cities.find((c) => c.city === "Madrid")?.cp_count).toBe(0);
  });

  test("shows one city regardless of the case it is asked in", async () => {
    const res = await call("GET", "/city-temperature/MADRID");
    expect(res.body).toMatchObject({ city: "Madrid", temperature_c: 18.2, alert: false });
  });

  test("answers 404 for a city never reported", async () => {
    const res = await call("GET", "/city-temperature/Atlantis");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });
});

describe("weather locations", () => {
  test("an operator adds a location, and adding it again in another case changes nothing", async () => {
    const added = await call("POST", "/weather/locations", { token: OPERATOR, body: { city: " Tromsø " } });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ city: "Tromsø", added_by: "operator" });
    const again = await call("POST", "/weather/locations", { token: OPERATOR, body: { city: "TROMSØ" } });
    expect(again.status).toBe(200);
    const list = await call("GET", "/weather/locations");
    expect(list.body.locations.map((l: { city: string }) => l.city)).toEqual(["Tromsø"]);
    expect((await auditRows("city/Tromsø")).map((a) => a.action)).toEqual(["location_added"]);
  });

  test("the weather office's service token cannot change locations", async () => {
    expect((await call("POST", "/weather/locations", { token: SERVICE, body: { city: "Kiruna" } })).status).toBe(401);
    expect((await call("DELETE", "/weather/locations/Tromsø", { token: SERVICE })).status).toBe(401);
  });

  test("a location with a bad body is refused", async () => {
    expect((await call("POST", "/weather/locations", { token: OPERATOR, body: { city: 42 } })).status).toBe(422);
    expect((await call("POST", "/weather/locations", { token: OPERATOR, raw: "[" })).status).toBe(400);
  });

  test("an operator removes a location; removing it again is a 404", async () => {
    const removed = await fetch(`${api.url}/ev/central/weather/locations/${encodeURIComponent("tromsø")}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${OPERATOR}` },
    });
    expect(removed.status).toBe(204);
    expect((await call("GET", "/weather/locations")).body.locations).toEqual([]);
    const again = await call("DELETE", `/weather/locations/${encodeURIComponent("Tromsø")}`, { token: OPERATOR });
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe("not_found");
  });
});

describe("POST /ev/central/weather/events", () => {
  test("appends a provider failure to the audit log as a weather error", async () => {
    const res = await call("POST", "/weather/events", {
      token: SERVICE,
      body: { kind: "city_not_found", city: "Atlantis", provider: "openweather", http_status: 404, message: "city not found" },
    });
    expect(res.status).toBe(201);
    const [row] = await auditRows("city/Atlantis");
    expect(row).toMatchObject({ event_type: "weather", action: "read_temperature", outcome: "error", reason: "city_not_found: city not found" });
    expect(row!.details).toMatchObject({ kind: "city_not_found", http_status: 404, provider: "openweather" });
  });

  test("records a failure of the whole provider against the provider", async () => {
    await call("POST", "/weather/events", {
      token: SERVICE,
      body: { kind: "unauthorized", provider: "openweather", http_status: 401, message: "Invalid API key" },
    });
    const [row] = await auditRows("provider/openweather");
    expect(row).toMatchObject({ outcome: "error", reason: "unauthorized: Invalid API key" });
  });

  test("refuses an unknown kind, and the operator's token", async () => {
    const bad = await call("POST", "/weather/events", { token: SERVICE, body: { kind: "sunburn", message: "too hot" } });
    expect(bad.status).toBe(422);
    const operator = await call("POST", "/weather/events", { token: OPERATOR, body: { kind: "timeout", message: "slow" } });
    expect(operator.status).toBe(401);
  });
});

describe("PUT /ev/central/weather/heartbeat", () => {
  test("records the weather office as alive in the service heartbeats", async () => {
    const res = await call("PUT", "/weather/heartbeat", {
      token: SERVICE,
      body: { instance: "pc3:4242", interval_ms: 2000, details: { provider: "offline", cities: 2 } },
    });
    expect(res.status).toBe(200);
    const [row] = await sql`select service, instance, interval_ms, details from service_heartbeats where service = 'weather'`;
    expect(row).toMatchObject({ service: "weather", instance: "pc3:4242", interval_ms: 2000, details: { provider: "offline", cities: 2 } });
  });

  test("refuses a heartbeat without the service token or with a bad interval", async () => {
    expect((await call("PUT", "/weather/heartbeat", { body: { instance: "x", interval_ms: 2000 } })).status).toBe(401);
    expect((await call("PUT", "/weather/heartbeat", { token: SERVICE, body: { instance: "x", interval_ms: "soon" } })).status).toBe(422);
  });
});

describe("control characters", () => {
  const fieldsOf = (res: { body: { error: { details: { field: string; message: string }[] } } }) => res.body.error.details.map((d) => d.field);

  test("in a city, a message, a source or a heartbeat's details are a 422 naming the field, and store nothing", async () => {
    const before = await sql`select count(*)::int as n from audit_events`;
    const city = await report("Os\u0000lo", -3);
    expect(city.status).toBe(422);
    expect(city.body.error.details[0]).toEqual({ field: "city", message: "city must not contain control characters" });
    expect(fieldsOf(await report("Oslo", -3, { source: "off\u001bline" }))).toEqual(["source"]);
    const event = await call("POST", "/weather/events", { token: SERVICE, body: { kind: "timeout", message: "slow\u0000" } });
    expect(fieldsOf(event)).toEqual(["message"]);
    const beat = await call("PUT", "/weather/heartbeat", {
      token: SERVICE,
      body: { instance: "pc3:1", interval_ms: 2000, details: { provider: "off\u0000" } },
    });
    expect(fieldsOf(beat)).toEqual(["details.provider"]);
    const location = await call("POST", "/weather/locations", { token: OPERATOR, body: { city: "Kiruna\u0007" } });
    expect(fieldsOf(location)).toEqual(["city"]);
    expect((await sql`select city from city_weather where city like 'Os%lo' and city <> 'Oslo'`).length).toBe(0);
    expect((await sql`select instance from service_heartbeats where instance = 'pc3:1'`).length).toBe(0);
    expect((await sql`select city from weather_locations where city like 'Kiruna%'`).length).toBe(0);
    const after = await sql`select count(*)::int as n from audit_events`;
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  test("in a city in the path are a 422, not a 500", async () => {
    const read = await call("GET", `/city-temperature/${encodeURIComponent("Os\u0000lo")}`);
    expect(read.status).toBe(422);
    expect(fieldsOf(read)).toEqual(["city"]);
    const removed = await call("DELETE", `/weather/locations/${encodeURIComponent("Os\u0000lo")}`, { token: OPERATOR });
    expect(removed.status).toBe(422);
  });
});

describe("when the message bus is down", () => {
  test("a report is stored but answered 503, so the weather office sends it again", async () => {
    const cut = await start(apiConfig({ KAFKA_BROKERS: "127.0.0.1:1" }));
    try {
      const res = await fetch(`${cut.url}/ev/central/city-temperature`, {
        method: "PUT",
        headers: { authorization: `Bearer ${SERVICE}`, "content-type": "application/json" },
        body: JSON.stringify({ city: "Kiruna", temperature_c: -12 }),
      });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unavailable");
    } finally {
      await cut.stop();
    }
    expect((await call("GET", "/city-temperature/Kiruna")).body).toMatchObject({ alert: true });
    // Sent again through an API whose bus works, Central hears of it.
    await report("Kiruna", -12);
    await waitFor(() => controlFor("Kiruna").length >= 1, "the control message for Kiruna");
  });
});
