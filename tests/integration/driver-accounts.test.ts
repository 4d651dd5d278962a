/**
 * Drivers as accounts, against the real PostgreSQL: a driver registers through the API with the
 * enrollment token (a new id only) or an operator registers it (also with a new credential for
 * an existing one); its credential, kept only as a hash, buys fresh channel keys; refusals are
 * 401s, audited. `evnet driver` registers the first time and keeps its credential owner-only.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { MemoryBus } from "../../src/bus/memory.ts";
import { loadConfig } from "../../src/config/env.ts";
import { auditEvents, driverKeys, drivers } from "../../src/db/schema/index.ts";
import { createLogger } from "../../src/lib/log.ts";
import { driverConfigSchema } from "../../src/roles/driver/config.ts";
import { start as startDriver } from "../../src/roles/driver/index.ts";
import { getJson, startTestApi, TEST_OPERATOR_TOKEN, type TestApi } from "../support/api-server.ts";
import { spawnRole } from "../support/processes.ts";

const ENROLLMENT = "enrollment-token-for-driver-tests";
let api: TestApi;
let dataDir: string;

beforeAll(async () => {
  api = await startTestApi({ EVNET_ENROLLMENT_TOKEN: ENROLLMENT });
  dataDir = mkdtempSync(join(tmpdir(), "evnet-driver-"));
});

afterAll(async () => {
  await api?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const post = (path: string, body: unknown, token?: string) =>
  getJson(api, `/ev/central${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

describe("registering a driver through the API", () => {
  test("with the enrollment token gives a new driver its credential once, kept only as a hash", async () => {
    const res = await post("/drivers", { driver_id: "D_REG" }, ENROLLMENT);
    expect(res.status).toBe(201);
    const credential = res.body.driver_credential as string;
    expect(credential.length).toBeGreaterThan(40);
    const [row] = await api.seed.db.select().from(drivers).where(eq(drivers.driverId, "D_REG"));
    expect(JSON.stringify(row)).not.toContain(credential);
    expect(row?.credentialHash).toMatch(/^[0-9a-f]{64}$/);
  });

  test("refuses with the enrollment token an id already registered, so nobody takes over another driver's account", async () => {
    await post("/drivers", { driver_id: "D_TAKEN" }, ENROLLMENT);
    const again = await post("/drivers", { driver_id: "D_TAKEN" }, ENROLLMENT);
    expect(again.status).toBe(409);
  });

  test("refuses a missing or wrong token, and a driver id that could not be an RFID id tag", async () => {
    expect((await post("/drivers", { driver_id: "D_X" })).status).toBe(401);
    expect((await post("/drivers", { driver_id: "D_X" }, "a-wrong-token-long-enough")).status).toBe(401);
    const long = await post("/drivers", { driver_id: "D".repeat(21) }, ENROLLMENT);
    expect(long.status).toBe(422);
    expect((await post("/drivers", { driver_id: "D\u0000X" }, ENROLLMENT)).status).toBe(422);
  });
});

describe("registering a driver at Central's admin", () => {
  test("evnet central register-driver prints the credential once, and it works", async () => {
    const role = spawnRole("central register-driver", ["central", "register-driver", "D_BY_OP", "--json"], { DATABASE_URL: api.database.url });
    expect(await role.proc.exited).toBe(0);
    const printed = JSON.parse(role.lines.filter((l) => !/^\d{4}-\d\d-\d\dT/.test(l)).join("\n"));
    expect(printed).toMatchObject({ driver_id: "D_BY_OP", created: true });
    expect((await post("/drivers/D_BY_OP/auth", { driver_credential: printed.driver_credential })).status).toBe(200);
    const refused = spawnRole("central register-driver", ["central", "register-driver", "D".repeat(21)], { DATABASE_URL: api.database.url });
    expect(await refused.proc.exited).not.toBe(0);
    expect(refused.lines.join("\n")).toContain("1-20 letters");
  }, 60_000);
});

describe("authenticating a driver", () => {
  test("trades its credential for a fresh key each time; the previous key is revoked", async () => {
    const { driver_credential } = (await post("/drivers", { driver_id: "D_AUTH" }, ENROLLMENT)).body;
    const first = await post("/drivers/D_AUTH/auth", { driver_credential });
    expect(first.status).toBe(200);
    expect(Buffer.from(first.body.key, "base64")).toHaveLength(32);
    const second = await post("/drivers/D_AUTH/auth", { driver_credential });
    expect(second.body.key_id).not.toBe(first.body.key_id);
    const keys = await api.seed.db.select().from(driverKeys).where(eq(driverKeys.driverId, "D_AUTH"));
    expect(keys.filter((k) => k.revokedAt === null).map((k) => k.keyId)).toEqual([second.body.key_id]);
    expect(JSON.stringify(keys)).not.toContain(first.body.key);
  });

  test("refuses a wrong credential and an unknown driver alike, audited", async () => {
    await post("/drivers", { driver_id: "D_WRONG" }, ENROLLMENT);
    const wrong = await post("/drivers/D_WRONG/auth", { driver_credential: "dc_not-the-credential" });
    const unknown = await post("/drivers/D_NOBODY/auth", { driver_credential: "dc_not-the-credential" });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
    const audits = await api.seed.db.select().from(auditEvents).where(eq(auditEvents.action, "authenticate_driver"));
    expect(audits.filter((a) => a.outcome === "failure").map((a) => a.reason)).toEqual(expect.arrayContaining(["wrong credential", "not registered"]));
  });

  test("an operator's new credential makes the old one stop working", async () => {
    const old = (await post("/drivers", { driver_id: "D_LOST" }, ENROLLMENT)).body.driver_credential;
    const renewed = await post("/drivers", { driver_id: "D_LOST" }, TEST_OPERATOR_TOKEN);
    expect(renewed.status).toBe(200);
    expect((await post("/drivers/D_LOST/auth", { driver_credential: old })).status).toBe(401);
    expect((await post("/drivers/D_LOST/auth", { driver_credential: renewed.body.driver_credential })).status).toBe(200);
  });
});

describe("the driver's app", () => {
  const config = (extra: Record<string, string | undefined> = {}) =>
    loadConfig(driverConfigSchema, {}, { DRIVER_ID: "D_APP", API_URL: api.url, EVNET_DATA_DIR: dataDir, EVNET_ENROLLMENT_TOKEN: ENROLLMENT, ...extra });
  const log = createLogger("driver-test");

  test("registers the first time, keeps its credential and key owner-only, and authenticates again on the next run", async () => {
    const bus = new MemoryBus();
    const first = await startDriver(config(), { bus, log });
    await first.stop();
    const file = join(dataDir, "driver-D_APP.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(file, "utf8"));
    expect(stored.credential).toStartWith("dc_");
    // A second run does not register again (that would be refused: the id is taken): it authenticates for a new key.
    const second = await startDriver(config(), { bus, log });
    await second.stop();
    const after = JSON.parse(readFileSync(file, "utf8"));
    expect(after.credential).toBe(stored.credential);
    expect(after.key_id).not.toBe(stored.key_id);
    await bus.close();
  });

  test("without an account, a token or a credential it says what to set", async () => {
    const err = await startDriver(config({ DRIVER_ID: "D_NEW", EVNET_ENROLLMENT_TOKEN: undefined }), { bus: new MemoryBus(), log }).catch((e) => e);
    expect(String(err)).toContain("EVNET_ENROLLMENT_TOKEN");
    expect(String(err)).toContain("DRIVER_CREDENTIAL");
  });
});
