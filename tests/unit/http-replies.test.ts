/**
 * The API's and the Registry's clients (the driver, the CP monitor, the weather office) read
 * replies against the shapes those services declare: a reply in another shape (a service of
 * another version, a proxy's page) is a clear error naming the field, and nothing is stored
 * from it. The services here are stand-ins that answer in the wrong shape on purpose.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { authenticate, register } from "../../src/roles/cp-monitor/enrollment.ts";
import { loadIdentity, saveIdentity } from "../../src/roles/cp-monitor/identity-store.ts";
import { ApiUnavailable, availableCps, history } from "../../src/roles/driver/api.ts";
import type { DriverConfig } from "../../src/roles/driver/config.ts";
import { CentralClient, CentralRejected } from "../../src/roles/weather/central-client.ts";

/** What the stand-in answers, by path. */
const replies = new Map<string, { status?: number; body: unknown }>();
let server: ReturnType<typeof Bun.serve>;
let base: string;
const dataDir = mkdtempSync(join(tmpdir(), "evnet-replies-"));

beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const reply = replies.get(new URL(req.url).pathname);
      return reply
        ? Response.json(reply.body, { status: reply.status ?? 200 })
        : Response.json({ error: { code: "not_found", message: "no such thing" } }, { status: 404 });
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(() => {
  server.stop(true);
  rmSync(dataDir, { recursive: true, force: true });
});

const driverConfig = () => ({ API_URL: base }) as DriverConfig;
const monitorConfig = () => ({
  REGISTRY_URL: base,
  API_URL: base,
  EVNET_DATA_DIR: dataDir,
  EVNET_ENROLLMENT_TOKEN: "an-enrollment-token-for-tests",
  KEY_CHECK_INTERVAL: 5,
});

describe("the driver's app", () => {
  test("reads the API's charging points when they have the declared shape", async () => {
    const cp = {
      cp_id: "CP1",
      location: "Madrid",
      status: "ACTIVE",
      status_reason: null,
      status_changed_at: "2026-01-31T10:00:00.000Z",
      price_per_kwh: 0.3,
      created_at: "2026-01-31T10:00:00.000Z",
      updated_at: "2026-01-31T10:00:00.000Z",
      last_connection_time: null,
      deregistered_at: null,
      temperature_c: 12,
      weather_alert: false,
      session: null,
      protocol: "evnet",
      protocol_version: null,
      vendor: null,
      model: null,
      serial_number: null,
      firmware_version: null,
      connection_state: "never",
      ocpp: null,
    };
    replies.set("/ev/central/charging-points", { body: { charging_points: [cp] } });
    expect((await availableCps(driverConfig())).map((c) => c.cp_id)).toEqual(["CP1"]);
  });

  test("refuses a charging point list in another shape, naming the field", async () => {
    replies.set("/ev/central/charging-points", { body: { charging_points: [{ cp_id: "CP1", location: 42 }] } });
    const err = await availableCps(driverConfig()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiUnavailable);
    expect((err as Error).message).toContain("in an unexpected shape (charging_points.0.location:");
  });

  test("refuses a history whose session has an unknown status", async () => {
    replies.set("/ev/central/sessions", { body: { sessions: [{ session_id: "S1", status: "PAUSED" }], paging: { limit: 20, offset: 0, total: 1 } } });
    await expect(history(driverConfig(), "D1")).rejects.toThrow(/unexpected shape \(sessions\.0\./);
  });

  test("reports the API's own message when it refuses", async () => {
    replies.set("/ev/central/sessions", { status: 422, body: { error: { code: "validation_failed", message: "invalid query" } } });
    await expect(history(driverConfig(), "D1")).rejects.toThrow("Central's API answered 422 for /ev/central/sessions?driver_id=D1&limit=20: invalid query");
  });
});

describe("the CP monitor", () => {
  test("stores no credential from a registration reply in another shape", async () => {
    replies.set("/ev/registry/charging-points", { status: 201, body: { cp_id: "CP_SHAPE", location: "Madrid", cp_credential: 12345 } });
    await expect(register(monitorConfig(), { cpId: "CP_SHAPE", location: "Madrid" })).rejects.toThrow(
      /the Registry answered POST \/ev\/registry\/charging-points in an unexpected shape \(/,
    );
    expect(loadIdentity(dataDir, "CP_SHAPE")).toBeUndefined();
  });

  test("stores no key from an authentication reply in another shape", async () => {
    saveIdentity(dataDir, { cp_id: "CP_KEY", location: "Madrid", credential: "a.credential.jwt" });
    replies.set("/ev/central/auth", {
      body: { cp_id: "CP_KEY", key_id: "k_1", key: "c2VjcmV0", algorithm: "ROT13", issued_at: "2026-01-31T10:00:00.000Z", message: "" },
    });
    await expect(authenticate(monitorConfig(), "CP_KEY")).rejects.toThrow(/the API answered POST \/ev\/central\/auth in an unexpected shape \(algorithm:/);
    expect(loadIdentity(dataDir, "CP_KEY")?.key).toBeUndefined();
  });
});

describe("the weather office", () => {
  test("refuses a location list in another shape as a rejection, not a connection problem", async () => {
    replies.set("/ev/central/weather/locations", { body: { locations: ["Oslo"] } });
    const central = new CentralClient({ baseUrl: base, serviceToken: "a-service-token" });
    const err = await central.operatorLocations().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CentralRejected);
    expect((err as Error).message).toBe(
      'GET /ev/central/weather/locations answered in an unexpected shape (locations.0: Invalid type: Expected Object but received "Oslo")',
    );
  });
});
