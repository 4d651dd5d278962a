/**
 * Central reads the bus as its settings say: the subscription it opens carries its batch size,
 * batch interval, partitions at once and offset-commit interval (how a Kafka subscription
 * honours each is tested in kafka-bus.test.ts), and its batches go to its opening thread from
 * the size its setting says (how the thread honours it: opening-thread.test.ts). A setting
 * Central stopped passing on would otherwise change nothing a test sees, only the load on the
 * broker or on Central's own thread.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { BatchHandler, SubscribeOptions, Subscription } from "../../src/bus/bus.ts";
import { MemoryBus } from "../../src/bus/memory.ts";
import { topicsFor } from "../../src/bus/topics.ts";
import { loadConfig } from "../../src/config/env.ts";
import { createCpChannel } from "../../src/cp/channel.ts";
import { parseMasterKey } from "../../src/crypto/keys.ts";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { centralConfigSchema } from "../../src/roles/central/config.ts";
import { type RunningCentral, start } from "../../src/roles/central/index.ts";
import { controlKeyEnv } from "../support/control.ts";
import { newMasterKeyHex } from "../support/identity.ts";
import { registerAndKey } from "../support/network.ts";
import { freePort } from "../support/network-processes.ts";
import { parsePrometheusText } from "../support/prometheus-text.ts";
import { createTestDatabase, type TestDatabase } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

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

/** Stops what a test started, so that it can start Central again. */
async function stopAll(): Promise<void> {
  await central?.stop();
  await bus?.close();
  await handle?.close();
  await database?.drop();
  central = bus = handle = database = undefined;
}

afterEach(stopAll);

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
    await stopAll();
    expect((await centralSubscription({ CENTRAL_COMMIT_INTERVAL: "0" })).commitIntervalMs).toBe(0);
  });
});

describe("Central's opening thread", () => {
  /**
   * Starts Central with `minBatch` as its setting (none: the default), gives it one batch of
   * `count` sealed messages from a registered CP, and answers where its envelopes were opened.
   */
  async function openedWhere(count: number, minBatch?: string): Promise<{ thread: number; inPlace: number }> {
    database = await createTestDatabase();
    handle = await openDatabase({ url: database.url });
    bus = new NotingBus();
    const masterKeyHex = newMasterKeyHex();
    const config = loadConfig(
      centralConfigSchema,
      {},
      {
        EVNET_MASTER_KEY: masterKeyHex,
        ...controlKeyEnv(),
        CENTRAL_INSTANCE_ID: "opening-test",
        CENTRAL_METRICS_PORT: String(await freePort()),
        ...(minBatch === undefined ? {} : { CENTRAL_OPENING_THREAD_MIN_BATCH: minBatch }),
      },
    );
    central = await start(config, { database: handle, bus });
    const cpId = "CP_OPEN";
    const key = await registerAndKey(handle.db, parseMasterKey(masterKeyHex), cpId);
    const engine = createCpChannel({ cpId, role: "engine", key });
    // one publish: the in-process bus hands them to Central as one batch
    await bus.publish(
      topicsFor(config.EVNET_TOPIC_PREFIX).cpEvents,
      Array.from({ length: count }, () => engine.seal({ type: "heartbeat", engine: "OK" })),
    );
    const where = { thread: 0, inPlace: 0 };
    await waitFor(
      async () => {
        const families = parsePrometheusText(await (await fetch(`${central!.metricsUrl}/metrics`)).text());
        const samples = families.get("evnet_central_envelopes_opened")?.samples ?? [];
        where.thread = samples.find((m) => m.labels.where === "thread")?.value ?? 0;
        where.inPlace = samples.find((m) => m.labels.where === "in_place")?.value ?? 0;
        return where.thread + where.inPlace >= 1 + count; // its own check message, then the batch
      },
      "the batch opened",
      { timeoutMs: 20_000, everyMs: 100 },
    );
    return where;
  }

  test("takes a batch as large as CENTRAL_OPENING_THREAD_MIN_BATCH, and opens a smaller one in place", async () => {
    expect(await openedWhere(5, "5")).toEqual({ thread: 1 + 5, inPlace: 0 });
    await stopAll();
    expect(await openedWhere(5, "6")).toEqual({ thread: 1, inPlace: 5 });
  });

  test("by default opens the batches of steady running in place, where they cost less than the crossing", async () => {
    expect(await openedWhere(200)).toEqual({ thread: 1, inPlace: 200 });
  });

  test("refuses a minimum under one, naming the setting", () => {
    expect(() =>
      loadConfig(centralConfigSchema, {}, { EVNET_MASTER_KEY: newMasterKeyHex(), ...controlKeyEnv(), CENTRAL_OPENING_THREAD_MIN_BATCH: "0" }),
    ).toThrow(/CENTRAL_OPENING_THREAD_MIN_BATCH/);
  });
});
