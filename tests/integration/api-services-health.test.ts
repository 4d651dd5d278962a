/**
 * `GET /ev/central/health/services`: each service's health, from a real probe of each — the
 * database, the Kafka broker, the Registry's health endpoint, and the heartbeats central and
 * weather write — and a clear "down" with the reason when one is not there.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryBus } from "../../src/bus/memory.ts";
import { makeCerts } from "../../src/certs/make.ts";
import { openDatabase } from "../../src/db/client.ts";
import { beat } from "../../src/db/repos/heartbeats.ts";
import { serviceHeartbeats } from "../../src/db/schema/index.ts";
import { PROBE_TIMEOUT_MS } from "../../src/roles/api/health/probes.ts";
import { cachedServicesHealth, checkServices } from "../../src/roles/api/health/services.ts";
import { getJson, startTestApi, type TestApi } from "../support/api-server.ts";
import { kafkaBrokers } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

type Service = { name: string; status: string; detail: string; instances: number; last_seen_at: string | null };
const serviceNamed = (body: { services: Service[] }, name: string) => body.services.find((s) => s.name === name)!;

/** A stand-in Registry answering its health check. */
function fakeRegistry() {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => (new URL(req.url).pathname === "/ev/registry/health" ? Response.json({ status: "ok" }) : new Response("no", { status: 404 })),
  });
}

describe("with an in-process bus and no Registry configured", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => {
    await api?.stop();
  });

  test("reports the API, database and bus up, the Registry unknown, and silent services unknown", async () => {
    const { status, body } = await getJson(api, "/ev/central/health/services");
    expect(status).toBe(200);
    expect(body.services.map((s: Service) => s.name)).toEqual(["api", "database", "kafka", "registry", "central", "weather"]);
    expect(serviceNamed(body, "api").status).toBe("up");
    expect(serviceNamed(body, "database").status).toBe("up");
    expect(serviceNamed(body, "kafka")).toMatchObject({ status: "up", detail: "in-process bus (no KAFKA_BROKERS)" });
    expect(serviceNamed(body, "registry")).toMatchObject({ status: "unknown", detail: "REGISTRY_URL is not configured" });
    expect(serviceNamed(body, "central")).toMatchObject({ status: "unknown", detail: "has never reported a heartbeat" });
    expect(body.status).toBe("degraded");
  });

  test("counts central up while its heartbeats are fresh and weather down when its last one is old", async () => {
    await beat(api.seed.db, { service: "central", instance: "c-1" });
    await api.seed.db.insert(serviceHeartbeats).values({ service: "weather", instance: "w-1", intervalMs: 2000, lastSeenAt: new Date(Date.now() - 60_000) });
    let body: any;
    await waitFor(async () => {
      body = (await getJson(api, "/ev/central/health/services")).body;
      return serviceNamed(body, "central").status === "up";
    }, "central to be reported up");
    expect(serviceNamed(body, "central")).toMatchObject({ status: "up", instances: 1 });
    expect(typeof serviceNamed(body, "central").last_seen_at).toBe("string");
    expect(serviceNamed(body, "weather").status).toBe("down");
    expect(serviceNamed(body, "weather").detail).toMatch(/last heartbeat \d+ s ago/);
  });
});

describe("with Kafka and a Registry", () => {
  let api: TestApi;
  const registry = fakeRegistry();
  beforeAll(async () => {
    api = await startTestApi({ KAFKA_BROKERS: kafkaBrokers().join(","), REGISTRY_URL: `http://127.0.0.1:${registry.port}` });
  });
  afterAll(async () => {
    await api?.stop();
    registry.stop(true);
  });

  test("reports the broker and the Registry up when they answer", async () => {
    const { body } = await getJson(api, "/ev/central/health/services");
    expect(serviceNamed(body, "kafka")).toMatchObject({ status: "up", detail: "broker answers" });
    expect(serviceNamed(body, "registry")).toMatchObject({ status: "up", detail: "answers its health check" });
  });

  test("reports the Registry down, with the reason, once it stops answering", async () => {
    registry.stop(true);
    let registryHealth: Service | undefined;
    await waitFor(async () => {
      registryHealth = serviceNamed((await getJson(api, "/ev/central/health/services")).body, "registry");
      return registryHealth.status === "down";
    }, "the registry to be reported down");
    expect(registryHealth!.detail.length).toBeGreaterThan(0);
  });
});

describe("with a Registry over HTTPS", () => {
  const certs = mkdtempSync(join(tmpdir(), "evnet-health-certs-"));
  let registry: ReturnType<typeof Bun.serve>;
  let trusting: TestApi;
  let untrusting: TestApi;
  beforeAll(async () => {
    await makeCerts({ dir: certs });
    registry = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: readFileSync(join(certs, "server.pem"), "utf8"), key: readFileSync(join(certs, "server-key.pem"), "utf8") },
      fetch: () => Response.json({ status: "ok" }),
    });
    const url = `https://127.0.0.1:${registry.port}`;
    trusting = await startTestApi({ REGISTRY_URL: url, EVNET_CA_FILE: join(certs, "ca.pem") });
    untrusting = await startTestApi({ REGISTRY_URL: url });
  });
  afterAll(async () => {
    await trusting?.stop();
    await untrusting?.stop();
    registry?.stop(true);
    rmSync(certs, { recursive: true, force: true });
  });

  test("reaches it by trusting the network's CA", async () => {
    const { body } = await getJson(trusting, "/ev/central/health/services");
    expect(serviceNamed(body, "registry").status).toBe("up");
  });

  test("reports it down, never turning verification off, without the CA", async () => {
    const { body } = await getJson(untrusting, "/ev/central/health/services");
    expect(serviceNamed(body, "registry").status).toBe("down");
    expect(serviceNamed(body, "registry").detail).toMatch(/certificate|verify|self.signed|issuer/i);
  });
});

test("reports the database down, without failing, when it cannot be reached", async () => {
  const unreachable = await openDatabase({ url: "postgres://evnet:evnet@127.0.0.1:1/none", maxConnections: 1 });
  try {
    const report = await checkServices({
      db: unreachable.db,
      bus: new MemoryBus(),
      probeTopic: "t",
      registry: {},
      startedAt: new Date(),
    });
    const database = report.services.find((s) => s.name === "database")!;
    expect(database.status).toBe("down");
    expect(database.detail).toMatch(/ECONNREFUSED|connect|refused/i);
    expect(report.services.find((s) => s.name === "central")!.status).toBe("unknown");
    expect(report.status).toBe("degraded");
  } finally {
    await unreachable.close();
  }
});

test("a Registry that never answers is reported down after the probe's time limit, without holding up the newest report", async () => {
  // Accepts connections and never answers.
  const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const database = await openDatabase({ url: "postgres://evnet:evnet@127.0.0.1:1/none", maxConnections: 1 });
  try {
    const cache = cachedServicesHealth(
      { db: database.db, bus: new MemoryBus(), probeTopic: "t", registry: { url: `http://127.0.0.1:${silent.port}` }, startedAt: new Date() },
      100,
    );
    const first = await cache.get();
    expect(first.services.find((s) => s.name === "registry")).toMatchObject({ status: "down", detail: expect.stringContaining(`${PROBE_TIMEOUT_MS} ms`) });
    await Bun.sleep(150); // the report is now older than its 100 ms lifetime
    const quick = await Promise.race([cache.latest().then(() => "the last report"), Bun.sleep(PROBE_TIMEOUT_MS / 2).then(() => "a wait for the probe")]);
    expect(quick).toBe("the last report");
  } finally {
    silent.stop(true);
    await database.close();
  }
});
