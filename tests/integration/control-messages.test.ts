/**
 * Central acts only on control messages it can verify, against the real PostgreSQL (the
 * in-process bus standing in for Kafka): one that is unsigned, signed with a key Central does
 * not trust, re-signed, altered, moved to another CP's key, stale, from the future or replayed is
 * refused, audited as a security event, and changes nothing; genuine ones after it still apply.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { type ControlMessage, signedControl } from "../../src/bus/control-messages.ts";
import { MemoryBus } from "../../src/bus/memory.ts";
import { topicsFor } from "../../src/bus/topics.ts";
import { loadConfig } from "../../src/config/env.ts";
import { parseMasterKey } from "../../src/crypto/keys.ts";
import { createMessageSigner } from "../../src/crypto/signed-messages.ts";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { auditEvents, cityWeather } from "../../src/db/schema/index.ts";
import { centralConfigSchema } from "../../src/roles/central/config.ts";
import { type RunningCentral, start } from "../../src/roles/central/index.ts";
import { controlKeyEnv, operatorCommand, publishControl, testSigner } from "../support/control.ts";
import { newMasterKeyHex } from "../support/identity.ts";
import { announceAuthenticated, cpStatus, registerAndKey, StandInCp } from "../support/network.ts";
import { createTestDatabase, type TestDatabase } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

const masterHex = newMasterKeyHex();
const topics = topicsFor("evnet");
let database: TestDatabase;
let handle: Database;
let bus: MemoryBus;
let central: RunningCentral;

/** An attacker's own Ed25519 key, which Central does not trust. */
const attacker = createMessageSigner(generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(), "api");

beforeAll(async () => {
  database = await createTestDatabase();
  handle = await openDatabase({ url: database.url, maxConnections: 6 });
  bus = new MemoryBus();
  const config = loadConfig(
    centralConfigSchema,
    {},
    { EVNET_MASTER_KEY: masterHex, ...controlKeyEnv(), CENTRAL_CONTROL_MAX_AGE: "600", CENTRAL_INSTANCE_ID: "controls" },
  );
  central = await start(config, { database: handle, bus });
});

afterAll(async () => {
  await central?.stop();
  await bus?.close();
  await handle?.close();
  await database?.drop();
});

async function activeCp(cpId: string, location?: string): Promise<void> {
  const key = await registerAndKey(handle.db, parseMasterKey(masterHex), cpId, { location });
  await announceAuthenticated(bus, topics, cpId, key);
  await new StandInCp(bus, topics, cpId, key).heartbeat(30);
  await waitFor(async () => (await cpStatus(handle.db, cpId)) === "ACTIVE", `${cpId} ACTIVE`);
}

/** Publishes a forged message, then a genuine stop of another CP: once that applied, the forged one had its turn. */
async function refusedThenGenuine(value: string, key: string, witness: string): Promise<void> {
  await bus.publish(topics.centralControl, [{ key, value }]);
  await publishControl(bus, topics, operatorCommand("operator_stop", witness));
  await waitFor(async () => (await cpStatus(handle.db, witness)) === "STOPPED", `${witness} stopped by the genuine message`);
}

async function securityAudits(cpId: string): Promise<string[]> {
  const rows = await handle.db
    .select({ reason: auditEvents.reason })
    .from(auditEvents)
    .where(and(eq(auditEvents.eventType, "security"), eq(auditEvents.action, "control_message"), eq(auditEvents.resource, `cp/${cpId}`)));
  return rows.map((r) => r.reason ?? "");
}

const stop = (cpId: string): ControlMessage => operatorCommand("operator_stop", cpId, "forged");

describe("a control message Central cannot verify", () => {
  test("unsigned (plain JSON, as anyone with access to Kafka can write) is refused and audited", async () => {
    await activeCp("CP_U");
    await activeCp("CP_U_W");
    await refusedThenGenuine(JSON.stringify(stop("CP_U")), "CP_U", "CP_U_W");
    expect(await cpStatus(handle.db, "CP_U")).toBe("ACTIVE");
    expect(await securityAudits("CP_U")).toEqual([expect.stringMatching(/^unsigned/)]);
  });

  test("signed with a key Central does not trust, or re-signed under the trusted key's id, is refused", async () => {
    await activeCp("CP_K");
    await activeCp("CP_K_W1");
    await activeCp("CP_K_W2");
    await refusedThenGenuine(signedControl(attacker, stop("CP_K")).value as string, "CP_K", "CP_K_W1");
    const resigned = JSON.parse(signedControl(attacker, stop("CP_K")).value as string);
    resigned.kid = testSigner.keyId; // claims the trusted key, signature still the attacker's
    await refusedThenGenuine(JSON.stringify(resigned), "CP_K", "CP_K_W2");
    expect(await cpStatus(handle.db, "CP_K")).toBe("ACTIVE");
    expect(await securityAudits("CP_K")).toEqual([expect.stringMatching(/^unknown_signer/), expect.stringMatching(/^bad_signature/)]);
  });

  test("altered after signing, or moved to another CP's key, is refused", async () => {
    await activeCp("CP_T");
    await activeCp("CP_T_W1");
    await activeCp("CP_T_W2");
    const genuine = JSON.parse(signedControl(testSigner, operatorCommand("operator_resume", "CP_T")).value as string);
    genuine.body = JSON.stringify(stop("CP_T"));
    await refusedThenGenuine(JSON.stringify(genuine), "CP_T", "CP_T_W1");
    // A genuine stop of CP_T_W2... published under CP_T's key: its signature covers the key it was signed for.
    const moved = signedControl(testSigner, stop("CP_T_W2"));
    await bus.publish(topics.centralControl, [{ key: "CP_T", value: moved.value }]);
    await publishControl(bus, topics, operatorCommand("operator_stop", "CP_T_W2"));
    await waitFor(async () => (await securityAudits("CP_T")).length === 2, "both refusals audited");
    expect(await cpStatus(handle.db, "CP_T")).toBe("ACTIVE");
    expect(await securityAudits("CP_T")).toEqual([expect.stringMatching(/^bad_signature/), expect.stringMatching(/^bad_signature/)]);
  });

  test("signed too long ago, or in the future, is refused as stale", async () => {
    await activeCp("CP_S");
    await activeCp("CP_S_W1");
    await activeCp("CP_S_W2");
    const body = JSON.stringify(stop("CP_S"));
    await refusedThenGenuine(testSigner.sign("CP_S", body, Date.now() - 3_600_000), "CP_S", "CP_S_W1");
    await refusedThenGenuine(testSigner.sign("CP_S", body, Date.now() + 600_000), "CP_S", "CP_S_W2");
    expect(await cpStatus(handle.db, "CP_S")).toBe("ACTIVE");
    expect(await securityAudits("CP_S")).toEqual([expect.stringMatching(/^stale/), expect.stringMatching(/^stale/)]);
  });

  test("replayed (a genuine message sent again) is refused after the first time", async () => {
    await activeCp("CP_R");
    const captured = signedControl(testSigner, operatorCommand("operator_stop", "CP_R", "genuine"));
    await bus.publish(topics.centralControl, [captured]);
    await waitFor(async () => (await cpStatus(handle.db, "CP_R")) === "STOPPED", "the genuine stop applied");
    await publishControl(bus, topics, operatorCommand("operator_resume", "CP_R"));
    await waitFor(async () => (await cpStatus(handle.db, "CP_R")) === "ACTIVE", "resumed");
    await bus.publish(topics.centralControl, [captured]);
    await waitFor(async () => (await securityAudits("CP_R")).length === 1, "the replay refused");
    expect(await securityAudits("CP_R")).toEqual([expect.stringMatching(/^replayed/)]);
    expect(await cpStatus(handle.db, "CP_R")).toBe("ACTIVE");
  });

  test("a forged frost alert takes no CP out of service", async () => {
    await activeCp("CP_FROST", "Tromso");
    await activeCp("CP_FROST_W");
    const frost: ControlMessage = { type: "city_temperature", city: "Tromso", alert: true, reported_at: new Date().toISOString() };
    await refusedThenGenuine(JSON.stringify(frost), "Tromso", "CP_FROST_W");
    await refusedThenGenuine(signedControl(attacker, frost).value as string, "Tromso", "CP_FROST_W");
    expect(await cpStatus(handle.db, "CP_FROST")).toBe("ACTIVE");
    // The same alert, signed by the API, does.
    await handle.db.insert(cityWeather).values({ city: "Tromso", temperatureC: -7, alert: true, alertSince: new Date() });
    await publishControl(bus, topics, frost);
    await waitFor(async () => (await cpStatus(handle.db, "CP_FROST")) === "OUT_OF_SERVICE", "the genuine alert applied");
  });
});
