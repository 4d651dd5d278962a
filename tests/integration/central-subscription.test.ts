/**
 * Central reads the bus as its settings say: the subscription it opens carries its batch size,
 * batch interval, partitions at once and offset-commit interval (how a Kafka subscription
 * honours each is tested in kafka-bus.test.ts). A setting Central stopped passing on would
 * otherwise change nothing a test sees, only the load on the broker.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { BatchHandler, SubscribeOptions, Subscription } from "../../src/bus/bus.ts";
import { MemoryBus } from "../../src/bus/memory.ts";
import { loadConfig } from "../../src/config/env.ts";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { centralConfigSchema } from "../../src/roles/central/config.ts";
import { type RunningCentral, start } from "../../src/roles/central/index.ts";
import { controlKeyEnv } from "../support/control.ts";
import { newMasterKeyHex } from "../support/identity.ts";
import { createTestDatabase, type TestDatabase } from "../support/services.ts";

/** The in-process bus, noting the options of every subscription opened on it. */
class NotingBus extends MemoryBus {
  readonly opened: SubscribeOptions[] = [];
  override subscribe(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    this.opened.push(options);
    return super.subscribe(options, handler);
  }
}

let database: TestDatabase | undefined;
let handle: Database | undefined;
let bus: NotingBus | undefined;
let central: RunningCentral | undefined;

afterEach(async () => {
  await central?.stop();
  await bus?.close();
  await handle?.close();
  await database?.drop();
  central = bus = handle = database = undefined;
});

/** Starts Central with `env` on a noting bus; returns the options of the subscription to its three topics. */
async function centralSubscription(env: Record<string, string>): Promise<SubscribeOptions> {
  database = await createTestDatabase();
  handle = await openDatabase({ url: database.url });
  bus = new NotingBus();
  const config = loadConfig(
    centralConfigSchema,
    {},
    { EVNET_MASTER_KEY: newMasterKeyHex(), ...controlKeyEnv(), CENTRAL_INSTANCE_ID: "subscription-test", ...env },
  );
  central = await start(config, { database: handle, bus });
  const opened = bus.opened.filter((o) => o.topics.includes("evnet.cp.events"));
  expect(opened).toHaveLength(1);
  return opened[0]!;
}

describe("Central's subscription", () => {
  test("carries the batch, interval, partitions-at-once and commit-interval settings", async () => {
    const options = await centralSubscription({
      CENTRAL_MAX_BATCH: "321",
      CENTRAL_BATCH_INTERVAL: "35",
      CENTRAL_PARALLEL_PARTITIONS: "4",
      CENTRAL_COMMIT_INTERVAL: "700",
    });
    expect(options).toMatchObject({
      groupId: "evnet.central",
      maxBatch: 321,
      batchIntervalMs: 35,
      concurrency: 4,
      commitIntervalMs: 700,
      copartitioned: true,
      from: "earliest",
    });
    expect([...options.topics].sort()).toEqual(["evnet.central.control", "evnet.cp.events", "evnet.driver.requests"]);
  });

  test("commits at most every 250 ms unless told otherwise, and one commit after another with 0", async () => {
    expect((await centralSubscription({})).commitIntervalMs).toBe(250);
    await central?.stop();
    await bus?.close();
    await handle?.close();
    await database?.drop();
    central = bus = handle = database = undefined;
    expect((await centralSubscription({ CENTRAL_COMMIT_INTERVAL: "0" })).commitIntervalMs).toBe(0);
  });
});
