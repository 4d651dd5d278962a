/**
 * No poison message for the bus's clients either, over the real Kafka: a CP's engine and
 * monitor, and a driver's app, pass over what they cannot read or handle (garbage, a NUL, an
 * envelope that is not for them, a payload that is not a message, a handler that throws) and
 * go on with the next message of the partition, within seconds; nothing is delivered again
 * without end.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { OutgoingMessage } from "../../src/bus/bus.ts";
import { KafkaBus } from "../../src/bus/kafka.ts";
import type { CpCommand, DriverUpdate } from "../../src/bus/messages.ts";
import { allTopics, topicsFor } from "../../src/bus/topics.ts";
import { SequenceCounter, seal } from "../../src/crypto/envelope.ts";
import { type ChannelKey, newChannelKey } from "../../src/crypto/keys.ts";
import { createLogger } from "../../src/lib/log.ts";
import { Engine } from "../../src/roles/cp-engine/engine.ts";
import { EngineLink } from "../../src/roles/cp-monitor/engine-link.ts";
import { Monitor } from "../../src/roles/cp-monitor/monitor.ts";
import { createDriverChannel } from "../../src/roles/driver/channel.ts";
import { DriverClient } from "../../src/roles/driver/client.ts";
import { kafkaBrokers, testTopicPrefix } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

const prefix = testTopicPrefix();
const topics = topicsFor(prefix);
const log = createLogger("client-poison-test");
const counter = new SequenceCounter();
let bus: KafkaBus;

beforeAll(async () => {
  bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: "evnet-client-poison-test", partitions: 1 });
  await bus.ensureTopics(allTopics(topics));
}, 60_000);

afterAll(async () => {
  await bus?.close();
});

/** What Central seals for `subject` ("cp:CP_X", "driver:D_X") under `key`, keyed `busKey`. */
function fromCentral(subject: string, busKey: string, key: ChannelKey, payload: unknown): OutgoingMessage {
  return { key: busKey, value: seal({ sub: subject, kid: key.keyId, sender: "central:test", seq: counter.next() }, key.key, payload) };
}

/** Messages nobody can read as one of Central's, each keyed for `busKey`. */
function poison(subject: string, busKey: string, key: ChannelKey): OutgoingMessage[] {
  return [
    { key: busKey, value: new Uint8Array([0x00, 0xff, 0xfe, 0x7b, 0x22]) }, // not UTF-8, not JSON
    { key: busKey, value: '{"v":2,"sub":"cp:\u0000","kid":"\u0000","sender":"central:\u0000","seq":1,"ts":0,"nonce":"","ct":""}' },
    { key: busKey, value: "null" },
    { key: busKey, value: new Uint8Array([3, 250, 0x63, 0x70]) }, // the binary format's first byte, then cut short
    { key: busKey, value: "x".repeat(200_000) },
    fromCentral(subject, busKey, key, null), // opens, but is no message
    fromCentral(subject, busKey, key, { type: "start_supply", session_id: "S\u0000NUL", driver_id: "D\u0000", price_per_kwh: -1 }),
    fromCentral(subject, busKey, key, { type: "authorised", request_id: "\u0000".repeat(10), driver_id: 1, cp_id: [], at: "yesterday" }),
    fromCentral(subject.replace(/:.*/, ":SOMEONE_ELSE"), busKey, key, { type: "key_revoked" }), // under another subject
    fromCentral(subject, busKey, { ...newChannelKey(), keyId: "k_made_up" }, { type: "key_revoked" }), // under a key nobody holds
  ];
}

describe("a CP's engine", () => {
  test("passes over poison on its partition and applies the genuine command after it within seconds", async () => {
    const key = newChannelKey();
    const engine = new Engine({ cpId: "CP_PE", powerKw: 22, maxDurationS: 600, telemetryMs: 1000, bus, topics, topicPrefix: prefix, log });
    try {
      await engine.listen();
      engine.setKey(key);
      await Bun.sleep(1000); // "latest": let the group settle before publishing
      const start: CpCommand = { type: "start_supply", session_id: "S-GENUINE", driver_id: "D1", price_per_kwh: 0.3 };
      await bus.publish(topics.cpCommands, [...poison("cp:CP_PE", "CP_PE", key), fromCentral("cp:CP_PE", "CP_PE", key, start)]);
      await waitFor(() => engine.sessionId === "S-GENUINE", "the genuine start applied", { timeoutMs: 15_000 });
    } finally {
      await engine.stop();
    }
  }, 60_000);
});

describe("a CP's monitor", () => {
  test("passes over poison, and a notice whose handling throws, and handles the next notice once", async () => {
    const key = newChannelKey();
    const notices: string[] = [];
    const monitor = new Monitor({
      cpId: "CP_PM",
      link: EngineLink.parse("127.0.0.1:9", 200), // no engine: the monitor only reads its commands here
      bus,
      topics,
      topicPrefix: prefix,
      log,
      heartbeatS: 3600,
      healthEveryMs: 3_600_000,
      onRevoked: (notice) => {
        notices.push(notice.reason);
        if (notice.reason === "throws") throw new Error("the key guard failed on this notice");
      },
    });
    try {
      monitor.setKey(key);
      await monitor.start();
      await Bun.sleep(3000); // "latest": let the group settle before publishing
      const notice = (reason: string) => fromCentral("cp:CP_PM", "CP_PM", key, { type: "key_revoked", cp_id: "CP_PM", key_id: key.keyId, reason });
      await bus.publish(topics.cpCommands, [...poison("cp:CP_PM", "CP_PM", key), notice("throws"), notice("genuine")]);
      await waitFor(() => notices.includes("genuine"), "the genuine notice handled", { timeoutMs: 15_000 });
      await Bun.sleep(1500); // a batch delivered again would hand the notices over again
      expect(notices).toEqual(["throws", "genuine"]);
    } finally {
      await monitor.stop();
    }
  }, 60_000);
});

describe("a driver's app", () => {
  test("passes over poison on its updates and takes the genuine update after it", async () => {
    const key = newChannelKey();
    const client = new DriverClient({ driverId: "D_PD", channel: createDriverChannel("D_PD", key), bus, topics, topicPrefix: prefix, log, retryMs: 1000 });
    const seen: DriverUpdate[] = [];
    client.onUpdate((u) => seen.push(u));
    client.onUpdate(() => {
      throw new Error("a listener that fails");
    });
    try {
      await client.listen();
      await Bun.sleep(3000); // "latest": let the group settle before publishing
      const authorised: DriverUpdate = {
        type: "authorised",
        request_id: "r-genuine",
        driver_id: "D_PD",
        cp_id: "CP_1",
        session_id: "S-D",
        price_per_kwh: 0.3,
        at: new Date().toISOString(),
      };
      await bus.publish(topics.driverUpdates, [...poison("driver:D_PD", "D_PD", key), fromCentral("driver:D_PD", "D_PD", key, authorised)]);
      await waitFor(() => seen.length > 0, "the genuine update taken", { timeoutMs: 15_000 });
      expect(seen.map((u) => u.type)).toEqual(["authorised"]);
      expect(client.current?.sessionId).toBe("S-D");
    } finally {
      await client.close();
    }
  }, 60_000);
});
