/**
 * The whole identity chain across separate OS processes of the evnet roles, against the real
 * PostgreSQL and Kafka: the monitor registers over HTTPS and authenticates, the CP's messages
 * flow sealed over Kafka (a raw reader of the topics finds no plaintext), an operator revokes
 * the key, the CP stops, its monitor authenticates again and the CP is ACTIVE once more.
 * Tampered, replayed and forged messages injected with a raw producer are refused, audited, and
 * change no state nor stop any role.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { BusMessage, Subscription } from "../../src/bus/bus.ts";
import { KafkaBus } from "../../src/bus/kafka.ts";
import { seal } from "../../src/crypto/envelope.ts";
import { newChannelKey } from "../../src/crypto/keys.ts";
import { isProbe } from "../../src/roles/central/probes.ts";
import { fieldsOf, withFields, withFlippedBit } from "../support/envelopes.ts";
import { callJson, OPERATOR_TOKEN } from "../support/identity.ts";
import { jsonLines, TestNetwork } from "../support/network-processes.ts";
import type { RoleProcess } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

/** A CP id of its own, so its engine's and monitor's consumer groups are this run's only. */
const CP = `CP_CHAIN_${randomBytes(3).toString("hex")}`;
const network = new TestNetwork();
const { topics } = network;
/** Both CP topics as a raw reader sees them: Central's commands as well as the CP's events. */
const onTheWire: BusMessage[] = [];
let commandsReader: KafkaBus;
let commandsSubscription: Subscription;
let roles: RoleProcess[];

const sql = () => network.sql;
const stateFile = () => JSON.parse(readFileSync(join(network.dataDir, `cp-${CP}.json`), "utf8"));
const cpRow = async () => (await sql()`select status, status_reason, status_changed_at from charging_points where cp_id = ${CP}`)[0]!;
const activeKey = async () => (await sql()`select key_id from cp_keys where cp_id = ${CP} and revoked_at is null`)[0]?.key_id as string | undefined;
/** Central's refusals of bus messages (this test's database has no other CP). */
const securityReasons = async () =>
  (await sql()`select reason from audit_events where event_type = 'security' and action = 'open_message' order by id`).map((r) => r.reason as string);
const sealedOnTheWire = () => [...network.wire, ...onTheWire].filter((m) => m.key === CP && !isProbe(m));

beforeAll(async () => {
  await network.start(); // Registry and API as processes, over HTTPS with the test CA
  commandsReader = new KafkaBus({ brokers: network.brokers, clientId: "chain-commands-reader", sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 });
  commandsSubscription = await commandsReader.subscribe(
    { topics: [topics.cpCommands], groupId: `${network.prefix}-commands`, from: "earliest" },
    async (batch) => {
      onTheWire.push(...batch);
    },
  );
  await network.startCentral("central-1", { EVNET_CENTRAL_GROUP: `${network.prefix}-central` });
  await network.startCp(CP, "Madrid"); // engine, and a monitor started with --register --authenticate
  roles = [...network.roles]; // the long-running roles (a driver comes and goes)
}, 240_000);

afterAll(async () => {
  await commandsSubscription?.close();
  await commandsReader?.close();
  await network.stop();
});

describe("a charging point joining the network", () => {
  test("the monitor registered over HTTPS, authenticated, and keeps credential and key owner-only", async () => {
    expect(network.registryUrl.startsWith("https://")).toBe(true);
    expect(network.apiUrl.startsWith("https://")).toBe(true);
    expect(statSync(join(network.dataDir, `cp-${CP}.json`)).mode & 0o777).toBe(0o600);
    const state = stateFile();
    expect(state.credential).toBeString();
    expect(state.key_id).toBe(await activeKey());
  });

  test("Central makes the CP ACTIVE and accepts its sealed messages", async () => {
    await waitFor(async () => (await cpRow()).status === "ACTIVE", "the CP to be ACTIVE", { timeoutMs: 30_000 });
    await waitFor(
      async () => (await sql()`select 1 from message_sequences where key_id = ${stateFile().key_id} and sender = ${`monitor:${CP}`}`).length > 0,
      "Central to accept the monitor's messages",
    );
  });

  test("a driver's charge runs over the sealed channel: Central's commands and the engine's telemetry", async () => {
    const driver = network.driver(`D_${CP}`, ["--cp", CP, "--charge-seconds", "2"]);
    expect(await driver.proc.exited).toBe(0);
    const ticket = jsonLines(driver).find((l) => l.type === "ticket");
    expect(ticket).toMatchObject({ cp_id: CP, end_reason: "driver_stop" });
    expect(ticket.energy_kwh).toBeGreaterThan(0);
    await waitFor(
      async () => (await sql()`select 1 from message_sequences where key_id = ${stateFile().key_id} and sender = ${`engine:${CP}`}`).length > 0,
      "Central to accept the engine's sealed telemetry",
    );
  }, 120_000);

  test("a reader of the raw CP topics sees only envelopes, both ways, no plaintext CP payload", async () => {
    await waitFor(() => sealedOnTheWire().some((m) => m.topic === topics.cpCommands), "Central's commands on the wire");
    expect(sealedOnTheWire().some((m) => m.topic === topics.cpEvents)).toBe(true);
    // Central's silence probes carry no CP data and are plaintext by design (a header marks them).
    for (const m of sealedOnTheWire()) {
      const text = new TextDecoder().decode(m.value);
      expect(fieldsOf(m.value)).toMatchObject({ sub: `cp:${CP}` }); // a binary envelope, its header readable and nothing else
      for (const word of ["heartbeat", "telemetry", "engine_status", "interval_s", "power_kw", "session_id", "start_supply", "key_revoked"])
        expect(text).not.toContain(word);
    }
  });
});

describe("messages injected by an attacker with a raw producer", () => {
  test("a replayed, a tampered, a forged and another CP's message are refused, audited, and change nothing", async () => {
    await waitFor(async () => (await cpRow()).status === "ACTIVE", "the CP to be ACTIVE");
    const before = await cpRow();
    const captured = sealedOnTheWire().find((m) => m.topic === topics.cpEvents && fieldsOf(m.value).sender === `monitor:${CP}`)!;
    const stranger = newChannelKey();
    const injected = [
      { key: CP, value: captured.value }, // replayed
      { key: CP, value: withFields(withFlippedBit(captured.value), { seq: fieldsOf(captured.value).seq + 10 ** 9 }) }, // tampered
      {
        key: CP,
        value: seal({ sub: `cp:${CP}`, kid: stranger.keyId, sender: `monitor:${CP}`, seq: Date.now() * 1000 + 10 ** 10 }, stranger.key, { type: "heartbeat" }),
      }, // forged
      { key: CP, value: withFields(captured.value, { sub: "cp:CP_SOMEONE_ELSE" }) }, // claims another CP
      { key: CP, value: "not an envelope at all" },
    ];
    await commandsReader.publish(topics.cpEvents, injected);
    await waitFor(async () => (await securityReasons()).length >= injected.length, "Central to audit every injected message");
    const codes = (await securityReasons()).map((r) => r.split(":")[0]);
    expect(codes).toEqual(expect.arrayContaining(["replayed", "tampered", "unknown_key", "subject_mismatch", "malformed"]));
    const after = await cpRow();
    expect(after.status).toBe("ACTIVE");
    expect(after.status_changed_at).toEqual(before.status_changed_at);
    for (const role of roles) expect(role.proc.exitCode).toBeNull();
  });
});

describe("revoking the CP's key", () => {
  test("the CP stops ('key revoked'), its monitor authenticates again, and it is ACTIVE with a new key", async () => {
    await waitFor(async () => (await cpRow()).status === "ACTIVE", "the CP to be ACTIVE");
    const old = stateFile();
    const revoked = await callJson(network.certs.fetch, "POST", `${network.apiUrl}/ev/central/charging-points/${CP}/revoke-key`, { token: OPERATOR_TOKEN });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_key_ids).toEqual([old.key_id]);
    await waitFor(
      async () =>
        (
          await sql()`select 1 from audit_events where event_type = 'state_change' and resource = ${`cp/${CP}`} and details->>'to' = 'STOPPED' and reason = 'key revoked'`
        ).length > 0,
      "Central to stop the CP for its revoked key",
      { timeoutMs: 30_000 },
    );
    await waitFor(async () => stateFile().key_id !== old.key_id, "the monitor to authenticate again", { timeoutMs: 30_000 });
    await waitFor(async () => (await cpRow()).status === "ACTIVE", "the CP to be ACTIVE again", { timeoutMs: 30_000 });
    expect(await activeKey()).toBe(stateFile().key_id);
    await waitFor(
      async () => (await sql()`select 1 from message_sequences where key_id = ${stateFile().key_id}`).length > 0,
      "Central to accept messages under the new key",
    );

    // A message sealed under the old key is refused, audited, and changes nothing.
    const before = await cpRow();
    const oldKey = { keyId: old.key_id as string, key: new Uint8Array(Buffer.from(old.key, "base64")) };
    await commandsReader.publish(topics.cpEvents, [
      {
        key: CP,
        value: seal({ sub: `cp:${CP}`, kid: oldKey.keyId, sender: `engine:${CP}`, seq: Date.now() * 1000 + 10 ** 10 }, oldKey.key, { type: "supply_ended" }),
      },
    ]);
    await waitFor(async () => (await securityReasons()).some((r) => r.startsWith("revoked_key")), "Central to refuse the old key");
    const after = await cpRow();
    expect(after.status).toBe("ACTIVE");
    expect(after.status_changed_at).toEqual(before.status_changed_at);
    for (const role of roles) expect(role.proc.exitCode).toBeNull();

    // Central's revocation notice crossed the wire sealed too.
    const notices = sealedOnTheWire().filter((m) => m.topic === topics.cpCommands && fieldsOf(m.value).kid === old.key_id);
    expect(notices.length).toBeGreaterThan(0);
    for (const n of notices) expect(new TextDecoder().decode(n.value)).not.toContain("revoked");
  });
});
