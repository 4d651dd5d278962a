/**
 * The weather office with the real OpenWeather client against a local server that answers in
 * OpenWeather's documented format, reporting to the real API (real PostgreSQL and Kafka).
 * Every failure OpenWeather can give is logged, audited once, keeps the last known temperature
 * and never flips an alert.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { KafkaBus } from "../../src/bus/kafka.ts";
import { allTopics, topicsFor } from "../../src/bus/topics.ts";
import { loadConfig } from "../../src/config/env.ts";
import type { Logger } from "../../src/lib/log.ts";
import { apiConfigSchema } from "../../src/roles/api/config.ts";
import { start as startApi } from "../../src/roles/api/index.ts";
import { CentralClient } from "../../src/roles/weather/central-client.ts";
import { WeatherOffice } from "../../src/roles/weather/office.ts";
import { OpenWeatherProvider } from "../../src/roles/weather/providers/openweather.ts";
import { controlKeyEnv } from "../support/control.ts";
import { OPENWEATHER_TEST_KEY, OpenWeatherMock, openWeatherErrors } from "../support/openweather-mock.ts";
import { createTestDatabase, kafkaBrokers, type TestDatabase, testTopicPrefix } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

const SERVICE = "service-token-for-openweather-tests";
const OPERATOR = "operator-token-for-openweather-tests";

/** A logger that keeps its lines, so tests can read what an operator would see. */
function capturingLogger(lines: string[]): Logger {
  const write = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  };
  const log: Logger = { debug: () => {}, info: write("INFO"), warn: write("WARN"), error: write("ERROR"), child: () => log };
  return log;
}

let database: TestDatabase;
let sql: postgres.Sql;
let api: { url: string; stop(): Promise<void> };
let mock: OpenWeatherMock;
const prefix = testTopicPrefix();

function apiConfig(port = "0") {
  return loadConfig(
    apiConfigSchema,
    {},
    {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: kafkaBrokers().join(","),
      EVNET_TOPIC_PREFIX: prefix,
      API_PORT: port,
      EVNET_SERVICE_TOKEN: SERVICE,
      EVNET_OPERATOR_TOKEN: OPERATOR,
      EVNET_MASTER_KEY: "a-master-key-passphrase-for-weather-tests",
      ...controlKeyEnv(),
    },
  );
}

function openWeather(options: { apiKey?: string; baseUrl?: string; timeoutMs?: number } = {}) {
  return new OpenWeatherProvider({
    baseUrl: options.baseUrl ?? mock.url,
    apiKey: options.apiKey ?? OPENWEATHER_TEST_KEY,
    timeoutMs: options.timeoutMs ?? 2_000,
    // A generous plan so the tests do not wait a second between calls.
    callsPerMinute: 60_000,
    callsPerMonth: 1_000_000_000_000,
  });
}

function officeWith(lines: string[], options: { apiKey?: string; baseUrl?: string; timeoutMs?: number; apiUrl?: string; backoffBaseMs?: number } = {}) {
  return new WeatherOffice({
    provider: openWeather(options),
    central: new CentralClient({ baseUrl: options.apiUrl ?? api.url, serviceToken: SERVICE, timeoutMs: 2_000 }),
    log: capturingLogger(lines),
    criticalC: 0,
    checkIntervalMs: 50,
    backoffBaseMs: options.backoffBaseMs ?? 300,
    backoffMaxMs: 5_000,
  });
}

const cityRow = async (city: string) =>
  (await sql<{ temperature_c: number; alert: boolean }[]>`select temperature_c, alert from city_weather where city = ${city}`)[0];

const weatherAudits = (resource: string) =>
  sql<{ outcome: string; reason: string; details: { kind: string; http_status: number | null } }[]>`
    select outcome, reason, details from audit_events where event_type = 'weather' and action = 'read_temperature' and resource = ${resource} order by id`;

beforeAll(async () => {
  database = await createTestDatabase();
  const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: "weather-openweather-test" });
  await bus.ensureTopics(allTopics(topicsFor(prefix)));
  await bus.close();
  api = await startApi(apiConfig());
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
  mock = new OpenWeatherMock();
});

afterAll(async () => {
  await mock?.stop();
  await api?.stop();
  await sql?.end();
  await database?.drop();
});

describe("a good answer", () => {
  test("is read from the documented body in °C and reported to Central, which stores the alert", async () => {
    mock.set("Oslo", { temp: -3.2 });
    const lines: string[] = [];
    const office = officeWith(lines);
    office.watch.set("operator", ["Oslo"]);
    await office.round();

    const [call] = mock.callsFor("Oslo");
    expect(call).toMatchObject({ city: "Oslo", appid: OPENWEATHER_TEST_KEY, units: "metric" });
    expect(await cityRow("Oslo")).toEqual({ temperature_c: -3.2, alert: true });
    expect(office.status().cities[0]).toMatchObject({ city: "Oslo", alert: true, reading: { temperatureC: -3.2, source: "openweather" } });
  });

  test("learns the cities to watch from the CPs and the operator's locations", async () => {
    await sql`insert into charging_points (cp_id, location, price_per_kwh) values ('CP-BGO-1', 'Bergen', 0.3)`;
    const added = await fetch(`${api.url}/ev/central/weather/locations`, {
      method: "POST",
      headers: { authorization: `Bearer ${OPERATOR}`, "content-type": "application/json" },
      body: JSON.stringify({ city: "Tromsø" }),
    });
    expect(added.status).toBe(201);
    const office = officeWith([]);
    await office.refreshLocations();
    const cities = office.watch.cities().map((c) => c.city);
    expect(cities).toContain("Bergen");
    expect(cities).toContain("Tromsø");
  });
});

describe("each failure OpenWeather can give", () => {
  let lines: string[];
  let office: WeatherOffice;

  /** Oslo is known at -3.2 °C (frost alert) before each failure. */
  beforeEach(async () => {
    lines = [];
    mock.set("Oslo", { temp: -3.2 });
    office = officeWith(lines, { timeoutMs: 300 });
    office.watch.set("operator", ["Oslo"]);
    await office.round();
    expect(await cityRow("Oslo")).toEqual({ temperature_c: -3.2, alert: true });
  });

  /** The failure is logged, audited once however often it repeats, and changes nothing. */
  async function expectFailureHandled(kind: string, resource: string, httpStatus: number | null, rounds = 2) {
    const auditsBefore = (await weatherAudits(resource)).length;
    for (let i = 0; i < rounds; i++) await office.round();
    const warnings = lines.filter((l) => l.startsWith("WARN cannot read the temperature") && l.includes(`"kind":"${kind}"`));
    expect(warnings).toHaveLength(1);
    const audits = (await weatherAudits(resource)).slice(auditsBefore);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ outcome: "error", details: { kind, http_status: httpStatus } });
    expect(await cityRow("Oslo")).toEqual({ temperature_c: -3.2, alert: true });
    expect(office.status().cities.find((c) => c.city === "Oslo")).toMatchObject({ alert: true, reading: { temperatureC: -3.2 } });
    expect(lines.join("\n")).not.toContain(OPENWEATHER_TEST_KEY);
    return audits[0]!;
  }

  test("a wrong API key (401) is reported with OpenWeather's message, and the round stops there", async () => {
    office.watch.set("operator", ["Oslo", "Bergen"]);
    mock.set("Bergen", { temp: 4 });
    mock.validKey = "a key that is no longer ours";
    try {
      const callsBefore = mock.calls.length;
      const audit = await expectFailureHandled("unauthorized", "provider/openweather", 401);
      expect(audit.reason).toContain("Invalid API key");
      expect(mock.calls.length - callsBefore).toBe(2); // one call per round: Bergen is not tried with a bad key
      expect(office.status().accountFailure?.kind).toBe("unauthorized");
    } finally {
      mock.validKey = OPENWEATHER_TEST_KEY;
    }
  });

  test("an unknown city (404) is reported against that city while the others are still read", async () => {
    office.watch.set("operator", ["Oslo", "Atlantis"]);
    mock.set("Oslo", { temp: -5 });
    await office.round();
    const [audit] = await weatherAudits("city/Atlantis");
    expect(audit).toMatchObject({
      outcome: "error",
      reason: "city_not_found: OpenWeather does not know this city (404): city not found",
      details: { http_status: 404 },
    });
    expect(await cityRow("Oslo")).toEqual({ temperature_c: -5, alert: true });
    expect(await cityRow("Atlantis")).toBeUndefined();
  });

  test("a server error (500) is reported and the last state kept", async () => {
    mock.set("Oslo", openWeatherErrors.internal);
    await expectFailureHandled("server_error", "city/Oslo", 500);
  });

  test("a bad gateway answered in HTML (502) is reported and the last state kept", async () => {
    mock.set("Oslo", openWeatherErrors.badGateway);
    const audit = await expectFailureHandled("server_error", "city/Oslo", 502);
    expect(audit.reason).toContain("502 Bad Gateway");
  });

  test("no answer in time is a timeout, reported, and the last state kept", async () => {
    mock.set("Oslo", "hang");
    await expectFailureHandled("timeout", "city/Oslo", null);
  });

  test("a provider that cannot be reached at all is a network failure", async () => {
    const vanishing = new OpenWeatherMock();
    vanishing.set("Oslo", { temp: -3.2 });
    office = officeWith(lines, { baseUrl: vanishing.url });
    office.watch.set("operator", ["Oslo"]);
    await office.round();
    await vanishing.stop();
    await expectFailureHandled("network", "city/Oslo", null);
  });

  for (const [what, body] of [
    ["an HTML page", "<!DOCTYPE html><html><body>Service temporarily unavailable</body></html>"],
    ["truncated JSON", '{"coord":{"lon":10.99,"lat":44.34},"weather":[{"id":501,"main":"Rain"'],
    ["a body without main.temp", JSON.stringify({ coord: { lon: 10.99, lat: 44.34 }, main: { humidity: 64 }, name: "Oslo", cod: 200 })],
    ["a temperature that is not a number", JSON.stringify({ main: { temp: "-3" }, name: "Oslo", cod: 200 })],
  ] as const)
    test(`a 200 with ${what} is malformed, reported, and the last state kept`, async () => {
      mock.set("Oslo", { status: 200, body });
      await expectFailureHandled("malformed", "city/Oslo", 200);
    });

  test("a city that reads again after a failure is reported as recovered, and its new temperature is stored", async () => {
    mock.set("Oslo", openWeatherErrors.internal);
    await office.round();
    mock.set("Oslo", { temp: 1.5 });
    await office.round();
    const audits = await weatherAudits("city/Oslo");
    expect(audits.at(-1)).toMatchObject({ outcome: "success", details: { kind: "recovered" } });
    expect(lines.some((l) => l.startsWith("INFO the temperature can be read again"))).toBe(true);
    expect(await cityRow("Oslo")).toEqual({ temperature_c: 1.5, alert: false });
  });
});

describe("the rate limit (429)", () => {
  test("pauses every call for as long as Retry-After says, then resumes", async () => {
    const lines: string[] = [];
    const office = officeWith(lines);
    office.watch.set("operator", ["Narvik", "Kiruna"]);
    mock.set("Narvik", openWeatherErrors.rateLimited(1));
    mock.set("Kiruna", { temp: -20 });
    await office.round();
    expect(mock.callsFor("Narvik")).toHaveLength(1);
    expect(mock.callsFor("Kiruna")).toHaveLength(0); // the limit is the account's: the round stops
    expect(office.pausedForMs()).toBeGreaterThan(0);
    expect(office.pausedForMs()).toBeLessThanOrEqual(1000);

    mock.set("Narvik", { temp: -8 });
    await roundsUntilUnpaused(office);
    await office.round();
    const narvik = mock.callsFor("Narvik");
    expect(narvik.length).toBeGreaterThanOrEqual(2);
    expect(narvik[1]!.at - narvik[0]!.at).toBeGreaterThanOrEqual(1000); // nothing was called during the pause
    expect(mock.callsFor("Kiruna").length).toBeGreaterThanOrEqual(1);
    expect(office.status().cities.find((c) => c.city === "Narvik")?.reading?.temperatureC).toBe(-8);

    const audits = await weatherAudits("provider/openweather");
    expect(audits.some((a) => a.details.kind === "rate_limited" && a.reason.includes("temporary blocked"))).toBe(true);
    expect(lines.some((l) => l.startsWith("WARN provider rate limit reached"))).toBe(true);
  });

  test("without Retry-After, pauses for longer after each further 429", async () => {
    const office = officeWith([], { backoffBaseMs: 200 });
    office.watch.set("operator", ["Luleå"]);
    mock.set("Luleå", openWeatherErrors.rateLimited());
    const pauses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const calls = mock.callsFor("Luleå").length;
      while (mock.callsFor("Luleå").length === calls) await office.round();
      pauses.push(office.pausedForMs());
      await roundsUntilUnpaused(office);
    }
    expect(pauses[1]!).toBeGreaterThan(200);
    expect(pauses[2]!).toBeGreaterThan(400);
    const calls = mock.callsFor("Luleå");
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(200);
    expect(calls[2]!.at - calls[1]!.at).toBeGreaterThanOrEqual(400);
  });
});

/** Keeps the office running rounds (as its loop would) until its 429 pause is over. */
async function roundsUntilUnpaused(office: WeatherOffice): Promise<void> {
  while (office.pausedForMs() > 0) {
    await office.round();
    await Bun.sleep(20);
  }
}

describe("when Central's API is unreachable", () => {
  test("readings wait, and every city's last state reaches Central when the API is back", async () => {
    const port = await freePort();
    const lines: string[] = [];
    const office = officeWith(lines, { apiUrl: `http://127.0.0.1:${port}` });
    office.watch.set("operator", ["Hammerfest", "Alta"]);
    mock.set("Hammerfest", { temp: -9 });
    mock.set("Alta", { temp: -1 });
    await office.round();
    await office.round();
    expect(lines.filter((l) => l.startsWith("WARN Central's API is unreachable"))).toHaveLength(1);
    expect(office.reporter.waiting.readings).toBe(2);
    expect(office.reporter.centralReachable).toBe(false);

    // The provider fails while the API comes back: the last known state must still arrive.
    mock.set("Hammerfest", openWeatherErrors.internal);
    mock.set("Alta", openWeatherErrors.internal);
    const second = await startApi(apiConfig(String(port)));
    try {
      await office.round();
      expect(lines.some((l) => l.startsWith("INFO Central's API is reachable again"))).toBe(true);
      expect(await cityRow("Hammerfest")).toEqual({ temperature_c: -9, alert: true });
      expect(await cityRow("Alta")).toEqual({ temperature_c: -1, alert: true });
      expect(office.reporter.waiting).toEqual({ readings: 0, events: 0 });
      // The failures seen meanwhile were audited too once the API was back.
      await waitFor(async () => (await weatherAudits("city/Hammerfest")).length === 1, "Hammerfest's failure in the audit log");
    } finally {
      await second.stop();
    }
  });
});

async function freePort(): Promise<number> {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = probe.port!;
  await probe.stop(true);
  return port;
}
