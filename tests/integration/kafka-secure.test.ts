/**
 * Against a broker that requires TLS and SASL/SCRAM and enforces ACLs (scripts/services.sh in
 * secure mode, a broker of this file's own; its certificate from evnet's certs code): the
 * principals and ACLs come from `evnet kafka-acls --apply`, a client with wrong credentials or
 * without TLS is refused, a role's principal cannot write a topic it has no ACL for, and the
 * network still charges end to end with every role logged in as its own principal.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { BusError, textDecoder } from "../../src/bus/bus.ts";
import { KafkaBus } from "../../src/bus/kafka.ts";
import { usernameFor } from "../../src/bus/kafka-access.ts";
import { busOptionsFrom } from "../../src/bus/open.ts";
import { busSettings } from "../../src/config/common.ts";
import { loadConfig } from "../../src/config/env.ts";
import { schemaOf } from "../../src/config/settings.ts";
import { jsonLines, TestNetwork } from "../support/network-processes.ts";
import { OwnBroker } from "../support/own-broker.ts";
import { spawnRole } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

const broker = new OwnBroker({ secure: true });
let net: TestNetwork;
let secrets: string;

/** What a role on the secured broker sets to log in as `username` (its password in a file). */
function loginAs(username: string, password?: string): Record<string, string> {
  return {
    KAFKA_TLS_CA_FILE: broker.login.KAFKA_TLS_CA_FILE!,
    KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
    KAFKA_SASL_USERNAME: username,
    ...(password ? { KAFKA_SASL_PASSWORD: password } : { KAFKA_SASL_PASSWORD_FILE: join(secrets, `${username}.password`) }),
  };
}

/** A bus client of the test, logged in as `login` (a role's principal, or a wrong one). */
function busAs(login: Record<string, string>): KafkaBus {
  const env = { KAFKA_BROKERS: broker.brokers.join(","), ...login };
  const config = loadConfig(schemaOf(busSettings), {}, env);
  return new KafkaBus({ ...busOptionsFrom(config, "secure-test"), brokers: broker.brokers, operationTimeoutMs: 8_000 });
}

beforeAll(async () => {
  await broker.up();
  secrets = broker.login.EVNET_KAFKA_SECRETS_DIR!;
  net = new TestNetwork({
    brokers: broker.brokers,
    kafkaLogin: (role, id) => (role === "reader" ? broker.login : loginAs(usernameFor(net.prefix, role === "cp" ? `cp-${id}` : role))),
  });
  // This network's principals and ACLs, as an operator applies them: one principal per CP here.
  const acls = spawnRole("kafka-acls", ["kafka-acls", "--apply", "--topic-prefix", net.prefix, "--cp", "CP_S1", "--secrets-dir", secrets], {
    KAFKA_BROKERS: broker.brokers.join(","),
    ...broker.login,
  });
  await acls.waitForLine(/ACLs in place/, 60_000);
  // A new broker's group coordinator loads for a moment: the first join waits for it (and
  // `evnet bus-check` from a CP's machine works with the CP's principal).
  await waitFor(
    async () => {
      const check = spawnRole("bus-check", ["bus-check", "--topic-prefix", net.prefix, "--timeout", "10"], {
        KAFKA_BROKERS: broker.brokers.join(","),
        ...loginAs(usernameFor(net.prefix, "cp-CP_S1")),
      });
      return (await check.proc.exited) === 0;
    },
    "a bus-check through the secured broker",
    { timeoutMs: 90_000, everyMs: 1000 },
  );
  await net.start();
  await net.startCentral("central-s");
  await net.startCp("CP_S1", "Huesca");
}, 300_000);

afterAll(async () => {
  await net?.stop();
  await broker.remove();
}, 90_000);

describe("a secured broker", () => {
  test("refuses a client with a wrong password, and one without TLS", async () => {
    const wrong = busAs(loginAs(usernameFor(net.prefix, "driver"), "not-the-password"));
    const error = await wrong.publish(net.topics.driverRequests, [{ key: "CP_S1", value: "{}" }]).catch((err) => err);
    await wrong.close();
    expect(error).toBeInstanceOf(BusError);
    expect(String(error.message)).toContain("SASL authentication failed");

    const { KAFKA_TLS_CA_FILE: _ca, ...withoutTls } = loginAs(usernameFor(net.prefix, "driver"));
    const plain = busAs(withoutTls);
    const refused = await plain.publish(net.topics.driverRequests, [{ key: "CP_S1", value: "{}" }]).catch((err) => err);
    await plain.close();
    expect(refused).toBeInstanceOf(BusError);
  }, 60_000);

  test("lets a role's principal write its own topics only", async () => {
    const driver = busAs(loginAs(usernameFor(net.prefix, "driver")));
    try {
      await driver.publish(net.topics.driverRequests, [{ key: "CP_NOPE", value: "{}" }]);
      const forged = await driver.publish(net.topics.cpCommands, [{ key: "CP_S1", value: "{}" }]).catch((err) => err);
      expect(forged).toBeInstanceOf(BusError);
      expect(String(forged.message)).toContain("TOPIC_AUTHORIZATION_FAILED");
      const control = await driver.publish(net.topics.centralControl, [{ key: "CP_S1", value: "{}" }]).catch((err) => err);
      expect(String(control.message)).toContain("TOPIC_AUTHORIZATION_FAILED");
    } finally {
      await driver.close();
    }
    // Another CP's principal would need its own: the one CP here may not join a group of CP_S2.
    const cp = busAs(loginAs(usernameFor(net.prefix, "cp-CP_S1")));
    try {
      const joined = await cp
        .subscribe({ topics: [net.topics.cpCommands], groupId: `${net.prefix}.engine.CP_S2`, from: "latest" }, async () => {})
        .catch((err) => err);
      expect(joined).toBeInstanceOf(BusError);
      expect(String(joined.message)).toMatch(/AUTHORIZATION_FAILED/);
    } finally {
      await cp.close();
    }
  }, 90_000);

  test("lets the API's principal read Central's live figures in a group of its own, not write them", async () => {
    const api = busAs(loginAs(usernameFor(net.prefix, "api")));
    const central = busAs(loginAs(usernameFor(net.prefix, "central")));
    try {
      const read: string[] = [];
      const subscription = await api.subscribe(
        { topics: [net.topics.centralLive], groupId: `${net.prefix}.api-live.${crypto.randomUUID()}`, from: "earliest" },
        async (messages) => {
          read.push(...messages.map((m) => textDecoder.decode(m.value)));
        },
      );
      await central.publish(net.topics.centralLive, [{ key: "figures", value: "from central" }]);
      await waitFor(() => read.includes("from central"), "the API reading what Central wrote", { timeoutMs: 30_000 });
      await subscription.close();
      const forged = await api.publish(net.topics.centralLive, [{ key: "figures", value: "from the api" }]).catch((err) => err);
      expect(String(forged?.message)).toContain("TOPIC_AUTHORIZATION_FAILED");
      // Central's own group is not the API's to join.
      const joined = await api
        .subscribe({ topics: [net.topics.centralLive], groupId: `${net.prefix}.central`, from: "latest" }, async () => {})
        .catch((err) => err);
      expect(String(joined?.message)).toMatch(/AUTHORIZATION_FAILED/);
    } finally {
      await api.close();
      await central.close();
    }
  }, 90_000);

  test("the network charges end to end, every role logged in as its own principal", async () => {
    const driver = net.driver("D_S1", ["--cp", "CP_S1", "--charge-seconds", "4"]);
    expect(await driver.proc.exited).toBe(0);
    const [ticket] = jsonLines(driver);
    expect(ticket).toMatchObject({ type: "ticket", cp_id: "CP_S1", driver_id: "D_S1", end_reason: "driver_stop" });
    expect(ticket.energy_kwh).toBeGreaterThan(0);
    expect((await net.session(ticket.session_id))?.status).not.toBe("IN_PROGRESS");
  }, 120_000);
});
