/**
 * Central's end of the encrypted channel against the real PostgreSQL and Kafka: CP messages
 * open only when they are intact, under the CP's own unrevoked key and not replayed (also after
 * a restart); every refusal is audited and changes nothing; Central's replies open at the CP;
 * a revoked key brings the CP an authenticated notice.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { and, eq, isNull } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { createAuditor } from "../../src/audit/audit.ts";
import { type BusMessage, type OutgoingMessage, type Subscription, textEncoder } from "../../src/bus/bus.ts";
import { KafkaBus } from "../../src/bus/kafka.ts";
import { isKeyRevokedNotice } from "../../src/bus/security-notice.ts";
import { allTopics, topicsFor } from "../../src/bus/topics.ts";
import { type CpChannel, createCpChannel } from "../../src/cp/channel.ts";
import { seal } from "../../src/crypto/envelope.ts";
import { type ChannelKey, newChannelKey, parseMasterKey, wrapKey } from "../../src/crypto/keys.ts";
import { OpeningThread } from "../../src/crypto/opening-thread.ts";
import { type Database, type Db, openDatabase } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { revokeActiveKeys, storeNewKey } from "../../src/db/repos/cp-keys.ts";
import { storeDriverKey } from "../../src/db/repos/driver-accounts.ts";
import * as schema from "../../src/db/schema/index.ts";
import { chargingPoints, cpCredentials, cpKeys, driverKeys as driverKeysTable, drivers } from "../../src/db/schema/index.ts";
import { createLogger } from "../../src/lib/log.ts";
import { type CentralChannel, createCentralChannel, NoActiveKeyError } from "../../src/roles/central/channel.ts";
import { createDriverChannel } from "../../src/roles/driver/channel.ts";
import { fieldsOf, sealJson, withFields, withFlippedBit } from "../support/envelopes.ts";
import { newMasterKeyHex } from "../support/identity.ts";
import { createTestDatabase, kafkaBrokers, type TestDatabase, testTopicPrefix } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

const prefix = testTopicPrefix();
const topics = topicsFor(prefix);
const masterKey = parseMasterKey(newMasterKeyHex());
const log = createLogger("test");
let database: TestDatabase;
let handle: Database;
let sql: postgres.Sql;
let bus: KafkaBus;
let subscription: Subscription;
const commands: BusMessage[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  handle = await openDatabase({ url: database.url, maxConnections: 4 });
  await migrate(handle.db);
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
  bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: "central-channel-test", sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 });
  await bus.ensureTopics(allTopics(topics));
  subscription = await bus.subscribe({ topics: [topics.cpCommands], groupId: `${prefix}-cp`, from: "earliest" }, async (batch) => {
    commands.push(...batch);
  });
});

afterAll(async () => {
  await subscription?.close();
  await bus?.close();
  await sql?.end();
  await handle?.close();
  await database?.drop();
});

function channelFor(
  options: { keyRecheckMs?: number; keyReadAgainMs?: number; noticeIntervalMs?: number; opener?: OpeningThread; db?: Db; keyForgetAfterMs?: number } = {},
): CentralChannel {
  return createCentralChannel({ db: handle.db, auditor: createAuditor(handle.db, log), log, bus, topics, masterKey, instance: "test-1", ...options });
}

/** A channel on a connection pool of its own that counts the queries matching `counted` (postgres.js's debug hook). */
function countingChannel(counted: RegExp, options: { keyRecheckMs: number; keyReadAgainMs: number; keyForgetAfterMs?: number }) {
  let reads = 0;
  const client = postgres(database.url, {
    max: 4,
    onnotice: () => {},
    debug: (_connection, query) => {
      if (counted.test(query)) reads++;
    },
  });
  const central = channelFor({ ...options, db: drizzle(client, { schema }) as unknown as Db });
  return { central, reads: () => reads, end: () => client.end() };
}

/** A registered, authenticated CP: its row, a credential and an active key, as the API leaves them. */
async function authenticatedCp(cpId: string): Promise<ChannelKey> {
  await handle.db
    .insert(chargingPoints)
    .values({ cpId, location: "Madrid", pricePerKwh: 0.3, currentCredentialId: `cred_${cpId}` })
    .onConflictDoNothing();
  await handle.db
    .insert(cpCredentials)
    .values({ jti: `cred_${cpId}`, cpId, expiresAt: new Date(Date.now() + 86400_000) })
    .onConflictDoNothing();
  const key = newChannelKey();
  await storeNewKey(handle.db, {
    keyId: key.keyId,
    cpId,
    wrappedKey: wrapKey(masterKey, { type: "cp", id: cpId }, key.keyId, key.key),
    credentialJti: `cred_${cpId}`,
  });
  return key;
}

let offset = 0n;
function onTheBus(value: string | Uint8Array, key: string): BusMessage {
  return { topic: topics.cpEvents, key, value: typeof value === "string" ? textEncoder.encode(value) : value, partition: 0, offset: offset++ };
}
const fromCp = (cp: CpChannel, payload: unknown) => {
  const out = cp.seal(payload);
  return onTheBus(out.value, out.key);
};

async function securityAudits(cpId: string) {
  return sql`select action, outcome, reason, actor_id, source_address, details from audit_events where event_type = 'security' and resource = ${`cp/${cpId}`} order by id`;
}
const acceptedSeqs = (keyId: string) => sql`select sender, last_seq from message_sequences where key_id = ${keyId}`;

describe("opening what a CP sends", () => {
  test("opens a message sealed by the CP's engine, and a replay of it once accepted is refused and audited", async () => {
    const key = await authenticatedCp("CP_E1");
    const central = channelFor();
    const engine = createCpChannel({ cpId: "CP_E1", role: "engine", key });
    const message = fromCp(engine, { type: "telemetry", power_kw: 7.4 });
    const first = await central.openOne<{ type: string }>(message);
    expect(first).toMatchObject({ ok: true, subject: { type: "cp", id: "CP_E1" }, payload: { type: "telemetry", power_kw: 7.4 } });
    if (!first.ok) throw new Error("not opened");
    expect(await central.accept(first.header)).toBe(true);
    expect(await central.openOne(message)).toMatchObject({ ok: false, code: "replayed" });
    const [audit] = await securityAudits("CP_E1");
    expect(audit).toMatchObject({ action: "open_message", outcome: "failure", actor_id: "CP_E1" });
    expect(audit!.reason).toStartWith("replayed:");
    expect(audit!.source_address).toStartWith(`kafka:${topics.cpEvents}`);
  });

  test("remembers accepted sequences across a restart of Central", async () => {
    const key = await authenticatedCp("CP_E2");
    const monitor = createCpChannel({ cpId: "CP_E2", role: "monitor", key });
    const message = fromCp(monitor, { type: "heartbeat" });
    const before = channelFor();
    const opened = await before.openOne(message);
    if (!opened.ok) throw new Error("not opened");
    await before.accept(opened.header);
    const afterRestart = channelFor();
    expect(await afterRestart.openOne(message)).toMatchObject({ ok: false, code: "replayed" });
    expect((await afterRestart.openOne(fromCp(monitor, { type: "heartbeat" }))).ok).toBe(true);
  });

  test("accepting the same sequence twice says no the second time (a concurrent copy)", async () => {
    const key = await authenticatedCp("CP_E3");
    const central = channelFor();
    const opened = await central.openOne(fromCp(createCpChannel({ cpId: "CP_E3", role: "engine", key }), {}));
    if (!opened.ok) throw new Error("not opened");
    expect(await central.accept(opened.header)).toBe(true);
    expect(await central.accept(opened.header)).toBe(false);
  });

  test("a tampered message is refused as tampered, audited, and records no sequence", async () => {
    const key = await authenticatedCp("CP_E4");
    const message = fromCp(createCpChannel({ cpId: "CP_E4", role: "engine", key }), { type: "telemetry", energy_kwh: 1 });
    const tampered = onTheBus(withFlippedBit(message.value, 3), "CP_E4");
    expect(await channelFor().openOne(tampered)).toMatchObject({ ok: false, code: "tampered" });
    expect((await securityAudits("CP_E4"))[0]!.reason).toStartWith("tampered:");
    expect((await acceptedSeqs(key.keyId)).length).toBe(0);
  });

  test("a header edited to raise the sequence is refused as tampered (the header is authenticated)", async () => {
    const key = await authenticatedCp("CP_E5");
    const message = fromCp(createCpChannel({ cpId: "CP_E5", role: "engine", key }), {});
    const edited = onTheBus(withFields(message.value, { seq: fieldsOf(message.value).seq + 1000 }), "CP_E5");
    expect(await channelFor().openOne(edited)).toMatchObject({ ok: false, code: "tampered" });
  });

  test("a message sealed with another CP's key and claiming this CP is refused as subject_mismatch", async () => {
    await authenticatedCp("CP_E6");
    const othersKey = await authenticatedCp("CP_E7");
    const forged = seal({ sub: "cp:CP_E6", kid: othersKey.keyId, sender: "engine:CP_E6", seq: 1 }, othersKey.key, { type: "supply_ended" });
    expect(await channelFor().openOne(onTheBus(forged, "CP_E6"))).toMatchObject({ ok: false, code: "subject_mismatch" });
    expect((await securityAudits("CP_E6"))[0]!.reason).toStartWith("subject_mismatch:");
  });

  test("a message whose bus key names another CP than its envelope is refused as subject_mismatch", async () => {
    const key = await authenticatedCp("CP_E8");
    const out = createCpChannel({ cpId: "CP_E8", role: "engine", key }).seal({});
    expect(await channelFor().openOne(onTheBus(out.value, "CP_E9"))).toMatchObject({ ok: false, code: "subject_mismatch" });
  });

  test("a message under a key Central never issued is refused as unknown_key", async () => {
    await authenticatedCp("CP_E10");
    const madeUp = newChannelKey();
    const message = fromCp(createCpChannel({ cpId: "CP_E10", role: "engine", key: madeUp }), {});
    expect(await channelFor().openOne(message)).toMatchObject({ ok: false, code: "unknown_key" });
  });

  test("garbage and a sender that is not the CP's engine or monitor are refused as malformed, without throwing", async () => {
    const key = await authenticatedCp("CP_E11");
    const central = channelFor();
    expect(await central.openOne(onTheBus("hello, plain text", "CP_E11"))).toMatchObject({ ok: false, code: "malformed" });
    expect(await central.openOne(onTheBus(new Uint8Array([0xff, 0x00, 0x13]), "CP_E11"))).toMatchObject({ ok: false, code: "malformed" });
    const posing = seal({ sub: "cp:CP_E11", kid: key.keyId, sender: "central:evil", seq: 1 }, key.key, {});
    expect(await central.openOne(onTheBus(posing, "CP_E11"))).toMatchObject({ ok: false, code: "malformed" });
    expect((await securityAudits("CP_E11")).map((a) => a.reason.split(":")[0])).toEqual(["malformed", "malformed", "malformed"]);
  });

  test("an envelope claiming a CP id with a NUL in it is refused as malformed and audited under that id made printable", async () => {
    const key = await authenticatedCp("CP_E12");
    const claimed = "CP_E12\u0000";
    const forged = seal({ sub: "cp:CP_E12", kid: key.keyId, sender: "engine:CP_E12", seq: 1 }, key.key, {});
    const result = await channelFor().openOne(onTheBus(withFields(forged, { sub: `cp:${claimed}` }), claimed));
    expect(result).toMatchObject({ ok: false, code: "malformed" });
    const [audit] = await securityAudits("CP_E12\\u0000");
    expect(audit).toMatchObject({ outcome: "failure", actor_id: "CP_E12\\u0000" });
  });

  test("a key revoked in the database without a control message stops working once re-checked", async () => {
    const key = await authenticatedCp("CP_E12");
    const central = channelFor({ keyRecheckMs: 0 });
    const engine = createCpChannel({ cpId: "CP_E12", role: "engine", key });
    expect((await central.openOne(fromCp(engine, {}))).ok).toBe(true);
    await revokeActiveKeys(handle.db, "CP_E12", "deregistered");
    expect(await central.openOne(fromCp(engine, {}))).toMatchObject({ ok: false, code: "revoked_key" });
  });
});

describe("revocations followed", () => {
  test("a key revoked without a control message, by a writer whose clock is behind, stops working within the re-check interval", async () => {
    const key = await authenticatedCp("CP_E13");
    const other = await authenticatedCp("CP_E14");
    const central = channelFor({ keyRecheckMs: 200 });
    const engine = createCpChannel({ cpId: "CP_E13", role: "engine", key });
    const otherEngine = createCpChannel({ cpId: "CP_E14", role: "engine", key: other });
    expect((await central.openOne(fromCp(engine, {}))).ok).toBe(true);
    expect((await central.openOne(fromCp(otherEngine, {}))).ok).toBe(true);
    // Written 30 s "ago" by the writer's clock: still among the keys revoked since Central last looked.
    await handle.db
      .update(cpKeys)
      .set({ revokedAt: new Date(Date.now() - 30_000), revokedReason: "revoked by operator" })
      .where(eq(cpKeys.keyId, key.keyId));
    await waitFor(async () => !(await central.openOne(fromCp(engine, {}))).ok, "the revocation followed", { timeoutMs: 2000 });
    expect(await central.openOne(fromCp(engine, {}))).toMatchObject({ ok: false, code: "revoked_key" });
    // The other CP's key, not revoked, still opens.
    expect((await central.openOne(fromCp(otherEngine, {}))).ok).toBe(true);
  });
});

describe("cached keys read again", () => {
  test("a batch under a key due its re-check opens at once, the key read again aside; a revocation that escaped the follow stops the next", async () => {
    const key = await authenticatedCp("CP_E15");
    const central = channelFor({ keyRecheckMs: 100, keyReadAgainMs: 1500 });
    const engine = createCpChannel({ cpId: "CP_E15", role: "engine", key });
    expect((await central.openBatch([fromCp(engine, {})]))[0]).toMatchObject({ ok: true });
    // Revoked by a writer whose clock is far behind: older than what the revocations followed look back to.
    await handle.db
      .update(cpKeys)
      .set({ revokedAt: new Date(Date.now() - 3_600_000), revokedReason: "revoked by operator" })
      .where(eq(cpKeys.keyId, key.keyId));
    await Bun.sleep(500);
    // Not due yet: the follow did not see it, and the cached key still opens.
    expect((await central.openBatch([fromCp(engine, {})]))[0]).toMatchObject({ ok: true });
    await Bun.sleep(1200);
    // Due: this batch opens with the key as cached while it is read again.
    expect((await central.openBatch([fromCp(engine, {})]))[0]).toMatchObject({ ok: true });
    await waitFor(async () => !(await central.openBatch([fromCp(engine, {})]))[0]!.ok, "the key read again", { timeoutMs: 2000 });
    expect((await central.openBatch([fromCp(engine, {})]))[0]).toMatchObject({ ok: false, code: "revoked_key" });
  });

  test("keys of many CPs due at once are read again in a few queries, not one per batch", async () => {
    const cps = await Promise.all(Array.from({ length: 30 }, (_, i) => authenticatedCp(`CP_W${i}`)));
    const engines = cps.map((key, i) => createCpChannel({ cpId: `CP_W${i}`, role: "engine", key }));
    const {
      central,
      reads: keyReads,
      end,
    } = countingChannel(/^select "key_id", "cp_id", "wrapped_key".* = any\(/s, { keyRecheckMs: 100, keyReadAgainMs: 300 });
    try {
      for (const e of engines) expect((await central.openBatch([fromCp(e, {})]))[0]).toMatchObject({ ok: true });
      expect(keyReads()).toBe(30); // each read when first used
      await Bun.sleep(400);
      // Thirty batches of one CP each, all due, opened together as a Central's partitions would be.
      const opened = await Promise.all(engines.map((e) => central.openBatch([fromCp(e, {})])));
      expect(opened.every(([r]) => r?.ok)).toBe(true);
      await waitFor(async () => keyReads() > 30, "the keys read again", { timeoutMs: 2000 });
      await Bun.sleep(200);
      expect(keyReads() - 30).toBeLessThanOrEqual(2); // the first batch's read, then all that came meanwhile
    } finally {
      await end();
    }
  });
});

describe("keys not used for a while", () => {
  // Dropped after 1.5 s unused here (half an hour by default); a CP that keeps speaking keeps its key cached.
  const FORGET_MS = 1500;

  /** Opens one message of `cp` every 100 ms for `ms`, each opened. */
  async function keepSpeaking(central: CentralChannel, cp: CpChannel, ms: number): Promise<void> {
    for (const until = Date.now() + ms; Date.now() < until; ) {
      await Bun.sleep(100);
      expect((await central.openBatch([fromCp(cp, {})]))[0]).toMatchObject({ ok: true });
    }
  }

  test("are dropped from the cache and read again at their next use; a key in use stays", async () => {
    const [kept, silent] = [
      createCpChannel({ cpId: "CP_U1", role: "engine", key: await authenticatedCp("CP_U1") }),
      createCpChannel({ cpId: "CP_U2", role: "engine", key: await authenticatedCp("CP_U2") }),
    ];
    const {
      central,
      reads: keyReads,
      end,
    } = countingChannel(/^select "key_id", "cp_id", "wrapped_key".* = any\(/s, { keyRecheckMs: 50, keyReadAgainMs: 60_000, keyForgetAfterMs: FORGET_MS });
    try {
      for (const cp of [kept, silent]) expect((await central.openBatch([fromCp(cp, {})]))[0]).toMatchObject({ ok: true });
      expect(keyReads()).toBe(2);
      expect(central.cached().keys).toBe(2);
      await keepSpeaking(central, kept, 2.5 * FORGET_MS);
      expect(central.cached().keys).toBe(1); // CP_U2's dropped
      expect(keyReads()).toBe(2); // CP_U1's never read again meanwhile
      expect((await central.openBatch([fromCp(silent, {})]))[0]).toMatchObject({ ok: true });
      expect(keyReads()).toBe(3); // CP_U2's read again
      expect(central.cached().keys).toBe(2);
    } finally {
      await end();
    }
  });

  test("a holder's active key is dropped too, and read again before the next seal", async () => {
    await authenticatedCp("CP_U3");
    const speaker = createCpChannel({ cpId: "CP_U4", role: "engine", key: await authenticatedCp("CP_U4") });
    const {
      central,
      reads: activeReads,
      end,
    } = countingChannel(/^select distinct on \("cp_keys"\."cp_id"\)/, { keyRecheckMs: 50, keyReadAgainMs: 60_000, keyForgetAfterMs: FORGET_MS });
    try {
      await central.sealForCp("CP_U3", { type: "start_supply", session_id: "s-u3" });
      expect(activeReads()).toBe(1);
      expect(central.cached().activeKeys).toBe(1);
      await keepSpeaking(central, speaker, 2.5 * FORGET_MS); // the cache is looked over as messages come
      expect(central.cached().activeKeys).toBe(0);
      const sealed = await central.sealForCp("CP_U3", { type: "stop_supply", session_id: "s-u3" });
      expect(activeReads()).toBe(2);
      expect(sealed.key).toBe("CP_U3");
    } finally {
      await end();
    }
  });

  test("a revoked key dropped from the cache is still refused, and audited, when it is used again", async () => {
    const revokedKey = await authenticatedCp("CP_U5");
    const revoked = createCpChannel({ cpId: "CP_U5", role: "monitor", key: revokedKey });
    const speaker = createCpChannel({ cpId: "CP_U6", role: "engine", key: await authenticatedCp("CP_U6") });
    const central = channelFor({ keyRecheckMs: 50, keyForgetAfterMs: FORGET_MS });
    expect((await central.openBatch([fromCp(revoked, { type: "heartbeat" })]))[0]).toMatchObject({ ok: true });
    await revokeActiveKeys(handle.db, "CP_U5", "revoked by operator");
    await waitFor(async () => !(await central.openBatch([fromCp(revoked, { type: "heartbeat" })]))[0]!.ok, "the revocation followed");
    expect((await central.openBatch([fromCp(speaker, {})]))[0]).toMatchObject({ ok: true });
    expect(central.cached().keys).toBe(2); // the revoked key, cached as revoked, and the speaker's
    await keepSpeaking(central, speaker, 2.5 * FORGET_MS);
    expect(central.cached().keys).toBe(1); // the revoked key dropped, the speaker's kept
    const before = (await securityAudits("CP_U5")).length;
    expect((await central.openBatch([fromCp(revoked, { type: "heartbeat" })]))[0]).toMatchObject({ ok: false, code: "revoked_key" });
    await waitFor(async () => (await securityAudits("CP_U5")).length > before, "the refusal audited");
    const audits = await securityAudits("CP_U5");
    expect(audits.at(-1)).toMatchObject({ action: "open_message", outcome: "failure" });
    expect(String(audits.at(-1)!.reason)).toStartWith("revoked_key");
  });
});

describe("a key replaced by a new authentication", () => {
  test("still opens what the CP sealed with it up to a minute after it was replaced, not what it sealed later", async () => {
    const old = await authenticatedCp("CP_R1");
    const central = channelFor({ keyRecheckMs: 0 });
    // Sealed now, still in Kafka (Central is behind) when the monitor authenticates again.
    const inFlight = fromCp(createCpChannel({ cpId: "CP_R1", role: "engine", key: old }), { type: "telemetry" });
    const fresh = newChannelKey();
    await storeNewKey(handle.db, {
      keyId: fresh.keyId,
      cpId: "CP_R1",
      wrappedKey: wrapKey(masterKey, { type: "cp", id: "CP_R1" }, fresh.keyId, fresh.key),
      credentialJti: "cred_CP_R1",
    });
    expect(await central.openOne(inFlight)).toMatchObject({ ok: true, subject: { type: "cp", id: "CP_R1" } });
    const later = Date.now() + 120_000;
    const sealedLater = onTheBus(seal({ sub: "cp:CP_R1", kid: old.keyId, sender: "engine:CP_R1", seq: later * 1000, ts: later }, old.key, {}), "CP_R1");
    expect(await central.openOne(sealedLater)).toMatchObject({ ok: false, code: "revoked_key" });
  });

  test("revoked by an operator, opens nothing more", async () => {
    const key = await authenticatedCp("CP_R2");
    const central = channelFor({ keyRecheckMs: 0 });
    const inFlight = fromCp(createCpChannel({ cpId: "CP_R2", role: "engine", key }), { type: "telemetry" });
    await revokeActiveKeys(handle.db, "CP_R2", "revoked by operator");
    expect(await central.openOne(inFlight)).toMatchObject({ ok: false, code: "revoked_key" });
  });
});

describe("a revoked key", () => {
  test("messages under it are refused and the CP gets one authenticated notice, sealed with that key", async () => {
    const key = await authenticatedCp("CP_F1");
    const central = channelFor({ keyRecheckMs: 0 });
    const monitor = createCpChannel({ cpId: "CP_F1", role: "monitor", key });
    await revokeActiveKeys(handle.db, "CP_F1", "revoked by operator");
    expect(await central.openOne(fromCp(monitor, { type: "heartbeat" }))).toMatchObject({ ok: false, code: "revoked_key" });
    expect(await central.openOne(fromCp(monitor, { type: "heartbeat" }))).toMatchObject({ ok: false, code: "revoked_key" });
    await waitFor(() => commands.some((m) => m.key === "CP_F1"), "the revocation notice");
    await Bun.sleep(300); // a second notice, if one were sent, would arrive by now
    const notices = commands.filter((m) => m.key === "CP_F1");
    expect(notices.length).toBe(1);
    const opened = await monitor.open(notices[0]!);
    expect(opened.ok).toBe(true);
    if (!opened.ok) return;
    expect(isKeyRevokedNotice(opened.payload)).toBe(true);
    expect(opened.payload).toMatchObject({ cp_id: "CP_F1", key_id: key.keyId, reason: "revoked by operator" });
  });
});

describe("control messages", () => {
  test("cp_authenticated makes the CP ACTIVE while its key stands", async () => {
    const key = await authenticatedCp("CP_G1");
    const effect = await channelFor().onControl({ type: "cp_authenticated", cp_id: "CP_G1", key_id: key.keyId, at: new Date().toISOString() });
    expect(effect.transition).toEqual({ to: "ACTIVE", reason: "authenticated" });
  });

  test("cp_authenticated for a key revoked since then changes nothing", async () => {
    const key = await authenticatedCp("CP_G2");
    await revokeActiveKeys(handle.db, "CP_G2", "revoked by operator");
    const effect = await channelFor().onControl({ type: "cp_authenticated", cp_id: "CP_G2", key_id: key.keyId, at: new Date().toISOString() });
    expect(effect.transition).toBeUndefined();
  });

  test("key_revoked stops the CP with reason 'key revoked' and notifies it under the old key", async () => {
    const key = await authenticatedCp("CP_G3");
    const revoked = await revokeActiveKeys(handle.db, "CP_G3", "revoked by operator");
    const effect = await channelFor().onControl({
      type: "key_revoked",
      cp_id: "CP_G3",
      key_ids: revoked,
      reason: "revoked by operator",
      actor_type: "operator",
      actor_id: null,
      at: new Date().toISOString(),
    });
    expect(effect.transition).toEqual({ to: "STOPPED", reason: "key revoked" });
    await waitFor(() => commands.some((m) => m.key === "CP_G3"), "the notice to CP_G3");
    const opened = await createCpChannel({ cpId: "CP_G3", role: "monitor", key }).open(commands.find((m) => m.key === "CP_G3")!);
    expect(opened.ok && isKeyRevokedNotice(opened.payload)).toBe(true);
  });

  test("key_revoked arriving after the CP already re-authenticated leaves it alone", async () => {
    await authenticatedCp("CP_G4");
    const revoked = await revokeActiveKeys(handle.db, "CP_G4", "revoked by operator");
    await authenticatedCp("CP_G4"); // the monitor was quicker than the control message
    const effect = await channelFor().onControl({
      type: "key_revoked",
      cp_id: "CP_G4",
      key_ids: revoked,
      reason: "revoked by operator",
      actor_type: "operator",
      actor_id: null,
      at: new Date().toISOString(),
    });
    expect(effect.transition).toBeUndefined();
  });
});

describe("sealing for a CP", () => {
  test("Central's message opens at the CP with its key, and never twice", async () => {
    const key = await authenticatedCp("CP_H1");
    const out = await channelFor().sealForCp("CP_H1", { type: "start_supply", session_id: "s1" });
    expect(out.key).toBe("CP_H1");
    const engine = createCpChannel({ cpId: "CP_H1", role: "engine", key });
    const message: BusMessage = { topic: topics.cpCommands, key: out.key, value: typeof out.value === "string" ? textEncoder.encode(out.value) : out.value };
    expect(await engine.open(message)).toMatchObject({ ok: true, payload: { type: "start_supply", session_id: "s1" } });
    expect(await engine.open(message)).toMatchObject({ ok: false, code: "replayed" });
  });

  test("a CP without an active key gets nothing sealed", async () => {
    await authenticatedCp("CP_H2");
    await revokeActiveKeys(handle.db, "CP_H2", "revoked by operator");
    await expect(channelFor().sealForCp("CP_H2", {})).rejects.toBeInstanceOf(NoActiveKeyError);
  });
});

/** A driver account with an active channel key, as the API leaves it. */
async function authenticatedDriver(driverId: string): Promise<ChannelKey> {
  await handle.db.insert(drivers).values({ driverId }).onConflictDoNothing();
  const key = newChannelKey("driver");
  await storeDriverKey(handle.db, { keyId: key.keyId, driverId, wrappedKey: wrapKey(masterKey, { type: "driver", id: driverId }, key.keyId, key.key) });
  return key;
}

describe("sealing drivers' progress", () => {
  test("each update opens with its own driver's active key; a driver without one gets nothing; a newer key is used once re-checked", async () => {
    const k1 = await authenticatedDriver("D_P1");
    const k2 = await authenticatedDriver("D_P2");
    await handle.db.insert(drivers).values({ driverId: "D_P3" }).onConflictDoNothing(); // registered, never authenticated
    const central = channelFor({ keyRecheckMs: 200 });
    const updates = ["D_P1", "D_P2", "D_P3", "D_P1"].map((driverId, n) => ({ driverId, payload: { type: "progress", n } }));
    const sealed = await central.sealForDrivers(updates);
    expect(sealed.map((m) => m?.key)).toEqual(["D_P1", "D_P2", undefined, "D_P1"]);
    const opened = async (key: ChannelKey, driverId: string, m: (typeof sealed)[number]) =>
      createDriverChannel(driverId, key).open({ topic: topics.driverUpdates, key: m!.key, value: m!.value as Uint8Array });
    expect(await opened(k1, "D_P1", sealed[0])).toMatchObject({ ok: true, payload: { n: 0 } });
    expect(await opened(k2, "D_P2", sealed[1])).toMatchObject({ ok: true, payload: { n: 1 } });
    expect(await opened(k1, "D_P1", sealed[3])).toMatchObject({ ok: true, payload: { n: 3 } });
    // Sealed for D_P1, D_P2's key does not open it.
    expect(await opened(k2, "D_P2", sealed[0])).toMatchObject({ ok: false });

    // D_P1 authenticates again: its old key is superseded, and the next updates use the new one.
    const newer = await authenticatedDriver("D_P1");
    await Bun.sleep(250);
    const [again] = await central.sealForDrivers([{ driverId: "D_P1", payload: { n: 4 } }]);
    expect(await opened(newer, "D_P1", again)).toMatchObject({ ok: true, payload: { n: 4 } });
    expect(await opened(k1, "D_P1", again)).toMatchObject({ ok: false });
  });
});

describe("drivers' active keys read again", () => {
  test("updates for drivers whose active key is due its re-check are sealed at once, the keys read again aside in one query", async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `D_AS${i}`);
    const issued = await Promise.all(ids.map((id) => authenticatedDriver(id)));
    const {
      central,
      reads: activeReads,
      end,
    } = countingChannel(/^select distinct on \("driver_keys"\."driver_id"\)/, { keyRecheckMs: 100, keyReadAgainMs: 1500 });
    const opens = (driverId: string, key: ChannelKey, m: OutgoingMessage | undefined) =>
      createDriverChannel(driverId, key).open({ topic: topics.driverUpdates, key: m!.key, value: m!.value as Uint8Array });
    try {
      const updates = () => ids.map((driverId, n) => ({ driverId, payload: { type: "progress", n } }));
      expect((await central.sealForDrivers(updates())).every(Boolean)).toBe(true);
      expect(activeReads()).toBe(1); // all ten read before the first seal, in one query
      // D_AS0 gets a new key, its old one revoked by a writer whose clock is far behind: the revocations followed miss it.
      const newer = newChannelKey("driver");
      await handle.db.transaction(async (tx) => {
        await tx
          .update(driverKeysTable)
          .set({ revokedAt: new Date(Date.now() - 3_600_000), revokedReason: "revoked by operator" })
          .where(and(eq(driverKeysTable.driverId, "D_AS0"), isNull(driverKeysTable.revokedAt)));
        await tx
          .insert(driverKeysTable)
          .values({ keyId: newer.keyId, driverId: "D_AS0", wrappedKey: wrapKey(masterKey, { type: "driver", id: "D_AS0" }, newer.keyId, newer.key) });
      });
      await Bun.sleep(1700);
      // Due: sealed at once with the keys as cached (D_AS0's old one too), and read again aside.
      const sealed = await central.sealForDrivers(updates());
      for (const [i, m] of sealed.entries()) expect(await opens(ids[i]!, issued[i]!, m)).toMatchObject({ ok: true, payload: { n: i } });
      await waitFor(async () => activeReads() === 2, "the active keys read again", { timeoutMs: 2000 });
      await Bun.sleep(50);
      // Read again: D_AS0's next update is under its new key, and nothing needed reading.
      const [next] = await central.sealForDrivers([{ driverId: "D_AS0", payload: { n: 10 } }]);
      expect(await opens("D_AS0", newer, next)).toMatchObject({ ok: true, payload: { n: 10 } });
      expect(await opens("D_AS0", issued[0]!, next)).toMatchObject({ ok: false });
      expect(activeReads()).toBe(2);
    } finally {
      await end();
    }
  });
});

describe("batches", () => {
  test("a batch opens with one read of the replay table, refusing a copy within the batch", async () => {
    const key = await authenticatedCp("CP_I1");
    const engine = createCpChannel({ cpId: "CP_I1", role: "engine", key });
    const a = fromCp(engine, { n: 1 });
    const b = fromCp(engine, { n: 2 });
    const central = channelFor();
    const results = await central.openBatch([a, b, a, onTheBus("junk", "CP_I1")]);
    expect(results.map((r) => (r.ok ? "ok" : r.code))).toEqual(["ok", "ok", "replayed", "malformed"]);
    const headers = results.flatMap((r) => (r.ok ? [r.header] : []));
    expect(await central.acceptAll(headers)).toEqual([true, true]);
    expect(await central.acceptAll(headers)).toEqual([false, false]);
    const again = await central.openBatch([a, b]);
    expect(again.map((r) => (r.ok ? "ok" : r.code))).toEqual(["replayed", "replayed"]);
  });
});

/** A format-2 envelope with the first character of its ciphertext changed. */
function alteredJson(wire: string): string {
  const e = JSON.parse(wire) as { ct: string };
  return JSON.stringify({ ...e, ct: (e.ct[0] === "A" ? "B" : "A") + e.ct.slice(1) });
}

describe("a batch opened on the opening thread", () => {
  test("gets the verdicts and payloads it gets in place, in order, every check kept", async () => {
    const key = await authenticatedCp("CP_T1");
    await authenticatedCp("CP_T2");
    const othersKey = await authenticatedCp("CP_T3");
    const engine = createCpChannel({ cpId: "CP_T1", role: "engine", key });
    const good = Array.from({ length: 40 }, (_, n) => fromCp(engine, { type: "telemetry", energy_kwh: n }));
    const tampered = onTheBus(withFlippedBit(fromCp(engine, { n: "tampered" }).value, 3), "CP_T1");
    const editedSeq = fromCp(engine, { n: "edited" });
    const batch = [
      ...good.slice(0, 10),
      tampered,
      good[3]!, // a copy within the batch: replayed
      onTheBus(withFields(editedSeq.value, { seq: fieldsOf(editedSeq.value).seq + 1 }), "CP_T1"),
      onTheBus(seal({ sub: "cp:CP_T2", kid: othersKey.keyId, sender: "engine:CP_T2", seq: 1 }, othersKey.key, {}), "CP_T2"),
      fromCp(createCpChannel({ cpId: "CP_T1", role: "engine", key: newChannelKey() }), {}),
      onTheBus(seal({ sub: "cp:CP_T1", kid: key.keyId, sender: "central:evil", seq: 1 }, key.key, {}), "CP_T1"),
      // the JSON format, from the CP's monitor (its own sequence), intact and altered
      onTheBus(sealJson({ sub: "cp:CP_T1", kid: key.keyId, sender: "monitor:CP_T1", seq: 1 }, key.key, { format: 2 }), "CP_T1"),
      onTheBus(alteredJson(sealJson({ sub: "cp:CP_T1", kid: key.keyId, sender: "monitor:CP_T1", seq: 2 }, key.key, {})), "CP_T1"),
      onTheBus("junk", "CP_T1"),
      ...good.slice(10),
    ];
    const thread = new OpeningThread(log, { minBatch: 1 });
    try {
      const verdicts = (results: Awaited<ReturnType<CentralChannel["openBatch"]>>) =>
        results.map((r) => (r.ok ? { payload: r.payload, seq: r.header.seq } : r.code));
      const inPlace = verdicts(await channelFor().openBatch(batch));
      const onThread = verdicts(await channelFor({ opener: thread }).openBatch(batch));
      expect(onThread).toEqual(inPlace);
      expect(inPlace.slice(10, 20)).toEqual([
        "tampered",
        "replayed",
        "tampered",
        "subject_mismatch",
        "unknown_key",
        "malformed",
        { payload: { format: 2 }, seq: 1 },
        "tampered",
        "malformed",
        expect.objectContaining({ payload: { type: "telemetry", energy_kwh: 10 } }),
      ]);
      expect(inPlace.filter((v) => typeof v === "object")).toHaveLength(41);
      // every envelope under a known key of the holder it names went to the thread
      expect(thread.counts.thread).toBe(batch.length - 3);
      expect(thread.counts.inPlace).toBe(0);
    } finally {
      await thread.close();
    }
  });
});

describe("what Kafka carries", () => {
  test("a reader of the raw CP topics sees no plaintext payload", async () => {
    const key = await authenticatedCp("CP_J1");
    const engine = createCpChannel({ cpId: "CP_J1", role: "engine", key });
    const marker = "PLAINTEXT-MARKER-telemetry-4711";
    await bus.publish(topics.cpEvents, [engine.seal({ type: "telemetry", note: marker, power_kw: 11 })]);
    await bus.publish(topics.cpCommands, [await channelFor().sealForCp("CP_J1", { type: "start_supply", note: marker })]);
    const raw: BusMessage[] = [];
    const reader = await bus.subscribe({ topics: [topics.cpEvents, topics.cpCommands], groupId: `${prefix}-raw`, from: "earliest" }, async (batch) => {
      raw.push(...batch);
    });
    try {
      await waitFor(() => raw.filter((m) => m.key === "CP_J1").length >= 2, "both sealed messages on the raw topics");
      for (const m of raw) {
        const text = new TextDecoder().decode(m.value);
        expect(text).not.toContain(marker);
        expect(text).not.toContain("telemetry");
        expect(text).not.toContain("start_supply");
      }
    } finally {
      await reader.close();
    }
  });
});
