/**
 * `evnet cp-engine`: a charger's energy engine. Listens on its local port for its monitor,
 * supplies when Central says so, and streams telemetry. Headless: SIGUSR1 toggles a simulated
 * fault (KO) and its recovery, SIGUSR2 unplugs the car. With a TTY: a menu does the same.
 */

import { ensureTopicsIfReachable } from "../../bus/keep-subscribed.ts";
import { busOptionsFrom, openBus } from "../../bus/open.ts";
import { allTopics, topicsFor } from "../../bus/topics.ts";
import { createLogger } from "../../lib/log.ts";
import type { Shared } from "../shared.ts";
import type { EngineConfig } from "./config.ts";
import { Engine } from "./engine.ts";
import { listenForMonitor } from "./local-port.ts";

export interface RunningEngine {
  engine: Engine;
  port: number;
  stop(): Promise<void>;
}

export async function start(config: EngineConfig, shared: Shared = {}): Promise<RunningEngine> {
  const log = shared.log ?? createLogger(`cp-engine ${config.CP_ID}`);
  const bus = shared.bus ?? (await openBus(busOptionsFrom(config, `evnet-engine-${config.CP_ID}`)));
  const topics = topicsFor(config.EVNET_TOPIC_PREFIX);
  await ensureTopicsIfReachable(bus, allTopics(topics), log);
  const engine = new Engine({
    cpId: config.CP_ID,
    powerKw: config.CP_POWER_KW,
    maxDurationS: config.MAX_CHARGING_DURATION,
    telemetryMs: config.ENGINE_TELEMETRY_INTERVAL_MS,
    bus,
    topics,
    topicPrefix: config.EVNET_TOPIC_PREFIX,
    log,
  });
  const subscribed = engine.listen();
  const server = listenForMonitor(engine, config.ENGINE_HOST, config.ENGINE_PORT, log);
  // The local port is open at once (its monitor sees it alive); Central's commands follow when
  // the bus is reachable. Readiness is announced once subscribed (or after a while without a broker).
  await Promise.race([subscribed, Bun.sleep(15_000)]);
  log.info("engine listening", { cp_id: config.CP_ID, host: config.ENGINE_HOST, port: server.port, power_kw: config.CP_POWER_KW });
  return {
    engine,
    port: server.port,
    async stop() {
      server.stop(true);
      await engine.stop();
      if (!shared.bus) await bus.close();
    },
  };
}

/** Headless fault simulation through signals (the menu offers the same). */
export function simulateWithSignals(engine: Engine): () => void {
  const toggle = () => engine.setFault(!engine.faulted);
  const unplug = () => void engine.unplug();
  process.on("SIGUSR1", toggle);
  process.on("SIGUSR2", unplug);
  return () => {
    process.off("SIGUSR1", toggle);
    process.off("SIGUSR2", unplug);
  };
}
