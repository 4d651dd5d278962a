/**
 * Brakes on failed authentication, against the real PostgreSQL: a flood of bad credentials from
 * one source is answered 429 with Retry-After once it passes the limit, and audited as a few rows
 * and one count, not a row per request; public reads, and genuine clients on other addresses,
 * go on as before. Tokens travel only over TLS or from loopback.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hono } from "hono";
import postgres from "postgres";
import { createAuditor } from "../../src/audit/audit.ts";
import { MemoryBus } from "../../src/bus/memory.ts";
import { topicsFor } from "../../src/bus/topics.ts";
import { ensureSigningKeys } from "../../src/certs/signing-keys.ts";
import { loadConfig } from "../../src/config/env.ts";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { type Brakes, createBrakes, DEFAULT_BRAKES } from "../../src/http/brakes.ts";
import { createLogger } from "../../src/lib/log.ts";
import { createApiApp } from "../../src/roles/api/app.ts";
import { apiConfigSchema } from "../../src/roles/api/config.ts";
import { start as startApi } from "../../src/roles/api/index.ts";
import { registryConfigSchema } from "../../src/roles/registry/config.ts";
import { start as startRegistry } from "../../src/roles/registry/index.ts";
import { controlKeyEnv, testSigner } from "../support/control.ts";
import { seedChargingPoint } from "../support/seed.ts";
import { createTestDatabase, type TestDatabase } from "../support/services.ts";

const OPERATOR = "operator-token-for-brake-tests";
const SERVICE = "service-token-for-brake-tests";
const ENROLLMENT = "enrollment-token-for-brake-tests";
const log = createLogger("brakes-test");
let testDb: TestDatabase;
let database: Database;
let sql: postgres.Sql;
let keysDir: string;
let registryKeys: Awaited<ReturnType<typeof ensureSigningKeys>>;

beforeAll(async () => {
  keysDir = mkdtempSync(join(tmpdir(), "evnet-brake-keys-"));
  registryKeys = await ensureSigningKeys(keysDir);
  testDb = await createTestDatabase();
  database = await openDatabase({ url: testDb.url, maxConnections: 4 });
  await migrate(database.db);
  sql = postgres(testDb.url, { max: 2, onnotice: () => {} });
  await seedChargingPoint(database.db, { cpId: "CP1", status: "ACTIVE" });
});

afterAll(async () => {
  await sql?.end();
  await database?.close();
  await testDb?.drop();
  rmSync(keysDir, { recursive: true, force: true });
});

function apiConfig(extra: Record<string, string> = {}) {
  return loadConfig(
    apiConfigSchema,
    {},
    {
      DATABASE_URL: testDb.url,
      API_PORT: "0",
      EVNET_OPERATOR_TOKEN: OPERATOR,
      EVNET_SERVICE_TOKEN: SERVICE,
      EVNET_MASTER_KEY: "a-master-key-passphrase-for-brake-tests",
      REGISTRY_PUBLIC_KEY: registryKeys.publicKeyFile,
      ...controlKeyEnv(),
      ...extra,
    },
  );
}

/** The API's app in this process, the peer's address given for each request. */
function appWith(brakes: Brakes, tls: boolean): Hono {
  const config = apiConfig(tls ? { API_TLS_CERT: "cert.pem", API_TLS_KEY: "key.pem" } : {});
  return createApiApp({
    db: database.db,
    bus: new MemoryBus(),
    topics: topicsFor("t"),
    auditor: brakes.auditor,
    brakes,
    controlSigner: testSigner,
    log,
    config,
    startedAt: new Date(),
  });
}

const stop = (app: Hono, from: string, token?: string) =>
  app.request("/ev/central/charging-points/CP1/stop", { method: "POST", headers: token ? { authorization: `Bearer ${token}` } : {} }, { remoteAddress: from });

async function auditsFrom(source: string) {
  return sql`select action, reason, details from audit_events where source_address = ${source} and outcome = 'failure' order by id`;
}

describe("a flood of wrong tokens from one source", () => {
  test("is held back with 429 and Retry-After past the limit, audited as a few rows and one count", async () => {
    const brakes = createBrakes(createAuditor(database.db, log), log, { ...DEFAULT_BRAKES, failuresPerWindow: 20 });
    const app = appWith(brakes, true);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 200; i++) {
      const res = await stop(app, "203.0.113.66", `a-wrong-operator-token-${i}`);
      statuses.push(res.status);
      retryAfter ??= res.headers.get("retry-after");
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(180);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);

    // Public reads from that address are not held back; a genuine operator elsewhere is not either.
    expect((await app.request("/ev/central/charging-points", {}, { remoteAddress: "203.0.113.66" })).status).toBe(200);
    expect((await stop(app, "198.51.100.9", OPERATOR)).status).toBe(202);
    // The held-back address itself waits, even with the right token: only failures counted, per address.
    expect((await stop(app, "203.0.113.66", OPERATOR)).status).toBe(429);

    await brakes.stop(); // writes the count of the window
    const rows = await auditsFrom("203.0.113.66");
    expect(rows.length).toBe(DEFAULT_BRAKES.auditedPerWindow + 1);
    const count = rows.at(-1)!;
    expect(count.action).toBe("failures_counted");
    expect(count.details.held_back).toBe(181);
    expect(Object.values(count.details.failures_by_action as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(10);
  });

  test("of bad credentials at POST /auth over real HTTP is held back the same way", async () => {
    const api = await startApi(apiConfig({ EVNET_AUTH_FAILURES_PER_MINUTE: "25" }));
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const statuses: number[] = [];
          for (let i = 0; i < 50; i++) {
            const res = await fetch(`${api.url}/ev/central/auth`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ cp_credential: "eyJhbGciOiJFZERTQSJ9.e30.forged" }),
            });
            statuses.push(res.status);
          }
          return statuses;
        }),
      );
      const all = results.flat();
      expect(all.filter((s) => s === 429).length).toBeGreaterThanOrEqual(400 - 25 - 8); // a few in flight when the limit was reached
      expect(all.every((s) => s === 401 || s === 429 || s === 503)).toBe(true);
    } finally {
      await api.stop();
    }
    const rows =
      await sql`select action from audit_events where source_address = '127.0.0.1' and outcome = 'failure' and action in ('authenticate', 'failures_counted')`;
    expect(rows.length).toBeLessThanOrEqual(DEFAULT_BRAKES.auditedPerWindow + 1);
    expect(rows.some((r) => r.action === "failures_counted")).toBe(true);
  }, 60_000);
});

describe("tokens over plain HTTP", () => {
  test("are refused from anything but loopback, before they are compared, and audited", async () => {
    const brakes = createBrakes(createAuditor(database.db, log), log);
    const app = appWith(brakes, false);
    const remote = await stop(app, "192.0.2.10", OPERATOR);
    expect(remote.status).toBe(403);
    expect((await remote.json()).error.message).toContain("HTTPS");
    expect((await stop(app, "127.0.0.1", OPERATOR)).status).toBe(202);
    expect((await app.request("/ev/central/charging-points", {}, { remoteAddress: "192.0.2.10" })).status).toBe(200);
    const [audit] = await auditsFrom("192.0.2.10");
    expect(audit!.reason).toContain("plain HTTP");
    await brakes.stop();
  });
});

describe("the Registry", () => {
  test("holds back a source that keeps sending a wrong enrollment token", async () => {
    const registry = await startRegistry(
      loadConfig(
        registryConfigSchema,
        {},
        {
          DATABASE_URL: testDb.url,
          REGISTRY_PORT: "0",
          REGISTRY_INSECURE_HTTP: "true",
          REGISTRY_SIGNING_KEY: registryKeys.privateKeyFile,
          EVNET_ENROLLMENT_TOKEN: ENROLLMENT,
          EVNET_AUTH_FAILURES_PER_MINUTE: "5",
        },
      ),
    );
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        const res = await fetch(`${registry.url}/ev/registry/charging-points`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: "Bearer not-the-enrollment-token" },
          body: JSON.stringify({ cp_id: "CP_FLOOD", location: "Madrid" }),
        });
        statuses.push(res.status);
      }
      expect(statuses).toEqual([...Array(5).fill(401), ...Array(7).fill(429)]);
    } finally {
      await registry.stop();
    }
  });
});
