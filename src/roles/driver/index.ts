/**
 * `evnet driver`: a driver's app. Registers and authenticates with Central's API (the first run
 * registers; every run gets a fresh channel key), charges over the bus (requests sealed with
 * that key; progress and tickets sealed for it), reads available CPs and history from the API. Headless it runs one action given by
 * flags (auto mode from a file, one charge, list, history) and exits; on a terminal it offers
 * the menu of the original design.
 */

import { ensureTopicsIfReachable } from "../../bus/keep-subscribed.ts";
import { busOptionsFrom, openBus } from "../../bus/open.ts";
import { allTopics, topicsFor } from "../../bus/topics.ts";
import { createLogger } from "../../lib/log.ts";
import type { Shared } from "../shared.ts";
import { createDriverChannel } from "./channel.ts";
import { DriverClient } from "./client.ts";
import type { DriverConfig } from "./config.ts";
import { ensureDriverKey } from "./identity.ts";

export interface RunningDriver {
  client: DriverClient;
  stop(): Promise<void>;
}

export async function start(config: DriverConfig, shared: Shared = {}): Promise<RunningDriver> {
  const log = shared.log ?? createLogger(`driver ${config.DRIVER_ID}`);
  const key = await ensureDriverKey(config, log);
  const bus = shared.bus ?? (await openBus(busOptionsFrom(config, `evnet-driver-${config.DRIVER_ID}`)));
  const topics = topicsFor(config.EVNET_TOPIC_PREFIX);
  await ensureTopicsIfReachable(bus, allTopics(topics), log);
  const client = new DriverClient({
    driverId: config.DRIVER_ID,
    channel: createDriverChannel(config.DRIVER_ID, key),
    bus,
    topics,
    topicPrefix: config.EVNET_TOPIC_PREFIX,
    log,
    retryMs: config.DRIVER_RETRY_SECONDS * 1000,
  });
  await client.listen();
  log.info("driver ready", { driver_id: config.DRIVER_ID });
  return {
    client,
    async stop() {
      await client.close();
      if (!shared.bus) await bus.close();
    },
  };
}

export function chargeSettings(config: DriverConfig) {
  return {
    chargeSeconds: config.DRIVER_CHARGE_SECONDS,
    requestTimeoutMs: config.DRIVER_REQUEST_TIMEOUT * 1000,
    ticketTimeoutMs: config.DRIVER_TICKET_TIMEOUT * 1000,
    pauseSeconds: config.DRIVER_PAUSE_SECONDS,
  };
}
