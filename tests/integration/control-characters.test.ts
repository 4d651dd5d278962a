/**
 * A NUL or another control character in any query, path or body field of the API or the
 * Registry is refused at the edge with a 422 naming the field, not a 500, and never reaches the
 * bus, the database or a log line as a raw byte; a value the database itself refuses, past
 * every schema, is a 422 too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { Hono } from "hono";
import { ensureSigningKeys } from "../../src/certs/signing-keys.ts";
import { loadConfig } from "../../src/config/env.ts";
import { installErrorHandling } from "../../src/http/errors.ts";
import { createLogger } from "../../src/lib/log.ts";
import { registryConfigSchema } from "../../src/roles/registry/config.ts";
import { start as startRegistry } from "../../src/roles/registry/index.ts";
import { startTestApi, TEST_OPERATOR_TOKEN, TEST_SERVICE_TOKEN, type TestApi } from "../support/api-server.ts";
import { seedChargingPoint } from "../support/seed.ts";

const ENROLLMENT = "enrollment-token-for-control-character-tests";
let api: TestApi;
let registry: { url: string; stop(): Promise<void> };
let keysDir: string;
/** Everything the roles in this process log while the tests run. */
const logged: string[] = [];
const writes = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };

beforeAll(async () => {
  process.stdout.write = ((chunk: string | Uint8Array) => logged.push(String(chunk)) && writes.out(chunk)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => logged.push(String(chunk)) && writes.err(chunk)) as typeof process.stderr.write;
  keysDir = mkdtempSync(join(tmpdir(), "evnet-control-char-keys-"));
  const keys = await ensureSigningKeys(keysDir);
  api = await startTestApi({ EVNET_ENROLLMENT_TOKEN: ENROLLMENT });
  await seedChargingPoint(api.seed.db, { cpId: "CP1", location: "Madrid", status: "ACTIVE" });
  registry = await startRegistry(
    loadConfig(
      registryConfigSchema,
      {},
      {
        DATABASE_URL: api.database.url,
        REGISTRY_PORT: "0",
        REGISTRY_INSECURE_HTTP: "true",
        REGISTRY_SIGNING_KEY: keys.privateKeyFile,
        EVNET_ENROLLMENT_TOKEN: ENROLLMENT,
      },
    ),
  );
});

afterAll(async () => {
  process.stdout.write = writes.out;
  process.stderr.write = writes.err;
  await registry?.stop();
  await api?.stop();
  rmSync(keysDir, { recursive: true, force: true });
});

const NUL = "\u0000";

async function call(base: string, method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token && { authorization: `Bearer ${token}` }), ...(body !== undefined && { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

describe("a NUL in a field", () => {
  const cases: [string, string, string, string | undefined, unknown?][] = [
    ["the charging points' location filter", "GET", `/ev/central/charging-points?location=Mad${encodeURIComponent(NUL)}rid`, undefined],
    ["the audit log's filters", "GET", `/ev/central/audit-events?actor_id=a${encodeURIComponent(NUL)}&resource=r`, undefined],
    ["an operator's stop reason", "POST", `/ev/central/charging-points/CP1/stop?reason=a${encodeURIComponent(NUL)}b`, TEST_OPERATOR_TOKEN],
    ["a CP id in the path", "GET", `/ev/central/charging-points/CP${encodeURIComponent(NUL)}1`, undefined],
    ["a city's temperature report", "PUT", "/ev/central/city-temperature", TEST_SERVICE_TOKEN, { city: `Madrid${NUL}`, temperature_c: 3 }],
    ["a city in the path", "GET", `/ev/central/city-temperature/Ma${encodeURIComponent(NUL)}drid`, undefined],
    ["a weather location", "POST", "/ev/central/weather/locations", TEST_OPERATOR_TOKEN, { city: `Ma_${NUL}drid` }],
    ["a weather location in the path", "DELETE", `/ev/central/weather/locations/Ma${encodeURIComponent(NUL)}`, TEST_OPERATOR_TOKEN],
    ["a driver's registration", "POST", "/ev/central/drivers", ENROLLMENT, { driver_id: `D${NUL}1` }],
    ["a field name of a body", "PUT", "/ev/central/city-temperature", TEST_SERVICE_TOKEN, { city: "Madrid", temperature_c: 3, [`x${NUL}`]: 1 }],
  ];
  for (const [what, method, path, token, body] of cases)
    test(`of ${what} is refused with a 422 naming it`, async () => {
      const reply = await call(api.url, method, path, token, body);
      expect(reply.status).toBe(422);
      expect(reply.body.error.code).toBe("validation_failed");
      expect(JSON.stringify(reply.body)).not.toContain(NUL);
    });

  test("of the Registry's location is refused with a 422", async () => {
    const reply = await call(registry.url, "POST", "/ev/registry/charging-points", ENROLLMENT, { cp_id: "CP_NUL", location: `Madrid${NUL}` });
    expect(reply.status).toBe(422);
    expect(reply.body.error.details).toEqual([expect.objectContaining({ field: "location" })]);
  });

  test("other control characters (an escape, a newline) are refused the same way", async () => {
    // Inside the text: spaces and newlines around a filter are trimmed away before it is checked.
    for (const c of ["\u001b[2J", "\n", "\u0085"])
      expect((await call(api.url, "GET", `/ev/central/charging-points?location=${encodeURIComponent(`Mad${c}rid`)}`)).status).toBe(422);
  });

  test("reached no log line as a raw byte", () => {
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.filter((line) => line.includes(NUL) || line.includes("\u001b"))).toEqual([]);
  });
});

describe("a value the database refuses past every schema", () => {
  test("is a 422 that names its SQLSTATE, not a 500", async () => {
    const app = new Hono();
    installErrorHandling(app, createLogger("test"));
    app.get("/nul", async () => {
      await api.seed.db.execute(sql`select ${`a${NUL}b`}::text`);
      return new Response("stored");
    });
    const res = await app.request("/nul");
    expect(res.status).toBe(422);
    expect((await res.json()).error.details).toEqual({ sqlstate: expect.stringMatching(/^22/) });
  });
});
