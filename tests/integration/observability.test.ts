/**
 * What the machines that watch evnet read: `/metrics` in Prometheus' text format on the API and
 * on Central, read by a parser written to the text format's specification (tests/support/prometheus-text.ts); `/livez` and `/readyz` with the statuses load
 * balancers expect; and `EVNET_LOG_FORMAT=json`, one JSON object per line.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { topicsFor } from "../../src/bus/topics.ts";
import { openDatabase } from "../../src/db/client.ts";
import { createLogger, setLogFormat, setLogSink } from "../../src/lib/log.ts";
import { createProbes } from "../../src/observability/probes.ts";
import { BATCH_PHASES } from "../../src/roles/central/metrics.ts";
import { startTestApi, type TestApi } from "../support/api-server.ts";
import { controlKeyEnv } from "../support/control.ts";
import { freePort } from "../support/network-processes.ts";
import { type RoleProcess, spawnRole, stopRoles } from "../support/processes.ts";
import { type Family, parsePrometheusText } from "../support/prometheus-text.ts";
import { seedChargingPoint, seedDriver, seedSession, seedWeather } from "../support/seed.ts";
import { createTestDatabase, kafkaBrokers, type TestDatabase, testTopicPrefix } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

async function scrape(url: string): Promise<{ families: Map<string, Family>; contentType: string }> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  return { families: parsePrometheusText(await res.text()), contentType: res.headers.get("content-type") ?? "" };
}

/** The value of the family's sample named `name` (the family's own name by default) with these labels. */
const value = (f: Family | undefined, labels: Record<string, string> = {}, name = f?.name) =>
  f?.samples.find((m) => m.name === name && Object.entries(labels).every(([k, v]) => m.labels[k] === v))?.value;

describe("the API's /metrics", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
    const db = api.seed.db;
    await seedChargingPoint(db, { cpId: "CP_A", location: "Oslo", status: "OUT_OF_SERVICE" });
    await seedChargingPoint(db, { cpId: "CP_B", location: "Madrid", status: "SUPPLYING" });
    await seedChargingPoint(db, { cpId: "CP_C", location: "Madrid", status: "ACTIVE" });
    await seedWeather(db, "Oslo", -5);
    await seedDriver(db, "D1", "CHARGING");
    await seedSession(db, { sessionId: "S1", cpId: "CP_B", driverId: "D1", powerKw: 22, energyKwh: 3.5 });
    await seedSession(db, {
      sessionId: "S0",
      cpId: "CP_C",
      driverId: "D1",
      status: "FINISHED",
      energyKwh: 10.25,
      endedAt: new Date(),
      endReason: "driver_stop",
    });
  });
  afterAll(() => api?.stop());

  test("reports chargers by state, frost, sessions, power, energy and the outbox, parsed as Prometheus text", async () => {
    await fetch(`${api.url}/ev/central/fleet?status=BROKEN`); // a request to time
    const { families, contentType } = await scrape(api.url);
    expect(contentType).toContain("text/plain");
    expect(contentType).toContain("version=0.0.4");
    const cps = families.get("evnet_charging_points")!;
    expect(cps.type).toBe("gauge");
    expect(value(cps, { state: "SUPPLYING" })).toBe(1);
    expect(value(cps, { state: "ACTIVE" })).toBe(1);
    expect(value(cps, { state: "OUT_OF_SERVICE" })).toBe(1);
    expect(value(cps, { state: "BROKEN" })).toBe(0);
    expect(value(families.get("evnet_charging_points_in_frost"))).toBe(1);
    expect(value(families.get("evnet_sessions_in_progress"))).toBe(1);
    expect(value(families.get("evnet_power_kilowatts"))).toBe(22);
    expect(families.get("evnet_sessions_finished_total")!.type).toBe("counter");
    expect(value(families.get("evnet_sessions_finished_total"))).toBe(1);
    expect(value(families.get("evnet_energy_delivered_kwh_total"))).toBe(13.75);
    expect(value(families.get("evnet_outbox_messages"))).toBe(0);
    expect(families.get("process_resident_memory_bytes")).toBeDefined();
  });

  test("times HTTP requests by route pattern, method and status, never by raw path", async () => {
    await fetch(`${api.url}/ev/central/charging-points/CP_A`);
    await fetch(`${api.url}/ev/central/charging-points/CP_B`);
    await fetch(`${api.url}/no/such/path/${"x".repeat(20)}`);
    const { families } = await scrape(api.url);
    const latency = families.get("evnet_http_request_duration_seconds")!;
    expect(latency.type).toBe("histogram");
    const routes = latency.samples.map((m) => m.labels.route);
    expect(routes).toContain("/ev/central/charging-points/:cp_id");
    expect(routes).toContain("(unmatched)");
    expect(routes.some((r) => r?.includes("CP_A") || r?.includes("xxxx"))).toBe(false);
    const route = { route: "/ev/central/charging-points/:cp_id", method: "GET", status: "200" };
    expect(value(latency, route, "evnet_http_request_duration_seconds_count")).toBe(2);
    expect(value(latency, { ...route, le: "+Inf" }, "evnet_http_request_duration_seconds_bucket")).toBe(2);
    expect(value(latency, route, "evnet_http_request_duration_seconds_sum")).toBeGreaterThan(0);
  });

  test("answers /livez and /readyz as load balancers expect", async () => {
    expect((await fetch(`${api.url}/livez`)).status).toBe(200);
    const ready = await fetch(`${api.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", checks: { database: "ok" } });
  });
});

test("readiness is 503 when a dependency fails or the role is stopping, and says which", async () => {
  const unreachable = await openDatabase({ url: "postgres://evnet:evnet@127.0.0.1:1/none", maxConnections: 1 });
  try {
    const { sql } = await import("drizzle-orm");
    const probes = createProbes("api", [{ name: "database", check: async () => void (await unreachable.db.execute(sql`select 1`)) }]);
    const down = await probes.routes.request("/readyz");
    expect(down.status).toBe(503);
    const body = await down.json();
    expect(body.status).toBe("not_ready");
    expect(body.failed.database).toBeTruthy();
    expect((await probes.routes.request("/livez")).status).toBe(200); // alive all the same: no restart

    const healthy = createProbes("central", [{ name: "database", check: async () => undefined }]);
    expect((await healthy.routes.request("/readyz")).status).toBe(200);
    healthy.drain();
    const draining = await healthy.routes.request("/readyz");
    expect(draining.status).toBe(503);
    expect((await draining.json()).failed.role).toBe("stopping");
  } finally {
    await unreachable.close();
  }
});

describe("Central's /metrics and probes", () => {
  let database: TestDatabase;
  let central: RoleProcess;
  let url: string;
  const prefix = testTopicPrefix();
  const dir = mkdtempSync(join(tmpdir(), "evnet-central-metrics-"));

  beforeAll(async () => {
    database = await createTestDatabase();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    central = spawnRole("central", ["central", "--no-menu"], {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: kafkaBrokers().join(","),
      EVNET_TOPIC_PREFIX: prefix,
      EVNET_DATA_DIR: dir,
      EVNET_MASTER_KEY: "a-master-key-passphrase-for-metrics-tests",
      CENTRAL_METRICS_PORT: String(port),
      EVNET_LOG_FORMAT: "json",
      ...controlKeyEnv(),
    });
    await central.waitForLine(/central ready/, 90_000);
  }, 120_000);

  /** How many of Central's log lines (JSON) say `msg`. */
  const timesLogged = (msg: string) => central.lines.filter((l) => l.trim() !== "" && JSON.parse(l).msg === msg).length;

  afterAll(async () => {
    await stopRoles([central]);
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("counts refused messages by reason and reports its group's lag and outbox", async () => {
    // A message that is no envelope at all, on the charger events topic: refused as malformed.
    const { KafkaBus } = await import("../../src/bus/kafka.ts");
    const topics = topicsFor(prefix);
    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: "metrics-test" });
    try {
      await bus.publish(topics.cpEvents, [{ key: "CP_X", value: "not an envelope" }]);
    } finally {
      await bus.close();
    }
    let families = new Map<string, Family>();
    await waitFor(
      async () => {
        families = (await scrape(url)).families;
        return value(families.get("evnet_central_messages_refused_total"), { reason: "malformed" }) === 1;
      },
      "the refusal counted",
      { timeoutMs: 60_000, everyMs: 500 },
    );
    expect(families.get("evnet_central_messages_refused_total")!.type).toBe("counter");
    // The group's lag is read from the broker at each scrape, within 2 s, and left out when the
    // broker does not answer in time (its first answer, on a new admin connection, may not).
    await waitFor(
      async () => {
        families = (await scrape(url)).families;
        return value(families.get("evnet_central_consumer_lag_messages"), { topic: topics.cpEvents }) !== undefined;
      },
      "the group's lag reported",
      { timeoutMs: 30_000, everyMs: 500 },
    );
    expect(value(families.get("evnet_central_consumer_lag_messages"), { topic: topics.cpEvents })).toBeGreaterThanOrEqual(0);
    expect(value(families.get("evnet_central_outbox_messages"))).toBe(0);
    // Its key cache, by what it holds: nothing yet (the one message was no envelope, refused before any key).
    expect(families.get("evnet_central_keys_cached")!.type).toBe("gauge");
    expect(value(families.get("evnet_central_keys_cached"), { what: "keys" })).toBe(0);
    expect(value(families.get("evnet_central_keys_cached"), { what: "active_keys" })).toBe(0);
    // Alone in its group: it joined when it started and once more for each rebalance since (a
    // lone member sees one when the broker's view of its topics changes, or when it misses its
    // heartbeats on a busy machine), each logged: the metric counts every join it logged.
    const joins = "evnet_central_group_joins_total";
    expect(families.get(joins)!.type).toBe("counter");
    await waitFor(
      async () => {
        const counted = value((await scrape(url)).families.get(joins));
        return counted !== undefined && counted >= 1 && counted === timesLogged("kafka group joined");
      },
      "each group join counted as logged",
      { timeoutMs: 10_000, everyMs: 200 },
    );
    expect(families.get("evnet_central_batch_seconds")!.type).toBe("histogram");
    // The refused message was applied all the same (its batch committed): its delay since the broker took it is counted.
    const delay = "evnet_central_message_delay_seconds";
    const onCpEvents = { topic: topics.cpEvents };
    await waitFor(
      async () => {
        families = (await scrape(url)).families;
        return value(families.get(delay), onCpEvents, `${delay}_count`) === 1;
      },
      "the message's delay counted",
      { timeoutMs: 30_000, everyMs: 500 },
    );
    expect(families.get(delay)!.type).toBe("histogram");
    const seconds = value(families.get(delay), onCpEvents, `${delay}_sum`)!;
    expect(seconds).toBeGreaterThanOrEqual(0);
    expect(seconds).toBeLessThan(60); // published after Central was ready, refused within the minute above
    expect(value(families.get(delay), { ...onCpEvents, le: "60" }, `${delay}_bucket`)).toBe(1);
    // Its batch's transaction is counted, with the number of partitions' batches it applied.
    const grouped = "evnet_central_batches_per_transaction";
    expect(families.get(grouped)!.type).toBe("histogram");
    expect(value(families.get(grouped), {}, `${grouped}_count`)).toBeGreaterThanOrEqual(1);
    expect(value(families.get(grouped), {}, `${grouped}_sum`)).toBeGreaterThanOrEqual(1);
    // Where its batches' time went: every batch counted in each phase (by default batches wait
    // for a transaction they may share, so they have a turn too), its wait since the broker took
    // the message under the minute above.
    const phase = "evnet_central_batch_phase_seconds";
    expect(families.get(phase)!.type).toBe("histogram");
    const batches = value(families.get("evnet_central_batch_seconds"), {}, "evnet_central_batch_seconds_count")!;
    expect(batches).toBeGreaterThanOrEqual(1);
    for (const p of BATCH_PHASES) expect(value(families.get(phase), { phase: p }, `${phase}_count`)).toBe(batches);
    const waited = value(families.get(phase), { phase: "waiting" }, `${phase}_sum`)!;
    expect(waited).toBeGreaterThanOrEqual(0);
    expect(waited).toBeLessThan(60 * batches);
    // Its opening thread opened its check message when Central started, and has not failed since;
    // the message above was refused before any cipher (it is no envelope).
    expect(timesLogged("opening thread ready")).toBe(1);
    expect(value(families.get("evnet_central_envelopes_opened"), { where: "thread" })).toBe(1);
    expect(value(families.get("evnet_central_envelopes_opened"), { where: "in_place" })).toBe(0);
    expect(value(families.get("evnet_central_opening_thread_failures"))).toBe(0);
    expect((await fetch(`${url}/livez`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  }, 90_000);

  test("logs one JSON object per line with EVNET_LOG_FORMAT=json", () => {
    const lines = central.lines.filter((l) => l.trim() !== "");
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) {
      const entry = JSON.parse(line); // every line, not only Central's own: the bus logs too
      expect(typeof entry.time).toBe("string");
      expect(["debug", "info", "warn", "error"]).toContain(entry.level);
      expect(typeof entry.role).toBe("string");
      expect(typeof entry.msg).toBe("string");
    }
    expect(lines.some((l) => JSON.parse(l).msg === "central ready")).toBe(true);
  });
});

test("a JSON log line keeps its fields, an error as its message, and its own keys", () => {
  const written: string[] = [];
  setLogSink((line) => written.push(line));
  setLogFormat("json");
  try {
    createLogger("api").warn('a "quoted"\nmessage', { cp_id: "CP_1", err: new Error("boom"), count: 3n, msg: "a field named msg", skipped: undefined });
  } finally {
    setLogFormat("text");
    setLogSink((line, level) => (level === "error" || level === "warn" ? process.stderr : process.stdout).write(`${line}\n`));
  }
  expect(written).toHaveLength(1);
  expect(written[0]!.includes("\n")).toBe(false);
  const entry = JSON.parse(written[0]!);
  expect(entry).toMatchObject({
    level: "warn",
    role: "api",
    msg: 'a "quoted"\nmessage',
    cp_id: "CP_1",
    err: "boom",
    count: "3",
    field_msg: "a field named msg",
  });
  expect("skipped" in entry).toBe(false);
});

describe("the text-format parser the tests read metrics with", () => {
  test("reads escapes, special values and histogram samples, and refuses what the format forbids", () => {
    const families = parsePrometheusText(
      '# HELP x_total A "counter"\\nwith a line\n# TYPE x_total counter\nx_total{reason="a\\"b\\\\c\\nd",z="1"} 3 1700000000000\n# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 0.5\nh_count 2\n# TYPE g gauge\ng NaN\n',
    );
    expect(families.get("x_total")!.help).toBe('A "counter"\nwith a line');
    expect(families.get("x_total")!.samples[0]).toEqual({ name: "x_total", labels: { reason: 'a"b\\c\nd', z: "1" }, value: 3 });
    expect(families.get("h")!.samples.map((s) => s.name)).toEqual(["h_bucket", "h_sum", "h_count"]);
    expect(Number.isNaN(families.get("g")!.samples[0]!.value)).toBe(true);
    expect(() => parsePrometheusText('# TYPE a gauge\na{b="c} 1\n')).toThrow("unterminated");
    expect(() => parsePrometheusText("# TYPE a gauge\na one\n")).toThrow("not a number");
    expect(() => parsePrometheusText("undeclared 1\n")).toThrow("no declared family");
    expect(() => parsePrometheusText("# TYPE a gauge\na 1\n# TYPE a counter\n")).toThrow("TYPE after");
    expect(() => parsePrometheusText("# TYPE 1a gauge\n")).toThrow("bad metric name");
  });
});
