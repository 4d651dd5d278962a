/**
 * `evnet cp-monitor`: a charger's supervisor. Registers the CP if asked (and needed),
 * authenticates it with Central if asked, then supervises its engine, sends heartbeats, and
 * authenticates again when Central revokes the key.
 */

import { ensureTopicsIfReachable } from "../../bus/keep-subscribed.ts";
import { busOptionsFrom, openBus } from "../../bus/open.ts";
import { allTopics, topicsFor } from "../../bus/topics.ts";
import type { ChannelKey } from "../../crypto/keys.ts";
import { AppError } from "../../lib/errors.ts";
import { createLogger } from "../../lib/log.ts";
import type { Shared } from "../shared.ts";
import type { MonitorConfig } from "./config.ts";
import { EngineLink } from "./engine-link.ts";
import { ensureIdentity, IdentityError, isTransient } from "./enrollment.ts";

/** Pauses between attempts to register and authenticate while the Registry or API cannot serve. */
const IDENTITY_RETRY_MS = 1000;
const IDENTITY_RETRY_MAX_MS = 5000;

import { type KeyGuard, startKeyGuard } from "./key-guard.ts";
import { Monitor } from "./monitor.ts";

export interface MonitorStartOptions {
  register: boolean;
  authenticate: boolean;
  /** Start without a key when there is none (the menu can register and authenticate). */
  allowNoKey?: boolean;
}

export interface RunningMonitor {
  monitor: Monitor;
  /** Hands a key from (re-)authentication to the channel and the engine. */
  useKey(key: ChannelKey): Promise<void>;
  stop(): Promise<void>;
}

export async function start(config: MonitorConfig, options: MonitorStartOptions, shared: Shared = {}): Promise<RunningMonitor> {
  const cpId = config.CP_ID;
  const log = shared.log ?? createLogger(`cp-monitor ${cpId}`);
  let key: ChannelKey | undefined;
  for (let delay = IDENTITY_RETRY_MS, warned = false; ; delay = Math.min(delay * 2, IDENTITY_RETRY_MAX_MS)) {
    try {
      ({ key } = await ensureIdentity(config, {
        cpId,
        location: config.CP_LOCATION,
        pricePerKwh: config.CP_PRICE_PER_KWH,
        register: options.register,
        authenticate: options.authenticate,
        log,
      }));
      if (warned) log.info("the Registry and the API answer again", { cp_id: cpId });
      break;
    } catch (err) {
      if (!(err instanceof IdentityError)) throw err;
      // A charger started while the API or its database is away comes up once they are back.
      if (isTransient(err) && !options.allowNoKey) {
        (warned ? log.debug : log.warn).call(log, "cannot register or authenticate now; trying again", { reason: err.message, retry_in_ms: delay });
        warned = true;
        await Bun.sleep(delay);
        continue;
      }
      // Not a bug: the Registry or API refused or cannot be reached; say so plainly.
      if (!options.allowNoKey) throw new AppError("unavailable", err.message);
      log.warn("starting without a channel key: register and authenticate from the menu", { reason: err.message });
      break;
    }
  }
  const bus = shared.bus ?? (await openBus(busOptionsFrom(config, `evnet-monitor-${cpId}`)));
  const topics = topicsFor(config.EVNET_TOPIC_PREFIX);
  await ensureTopicsIfReachable(bus, allTopics(topics), log);
  const link = EngineLink.parse(config.ENGINE_ADDRESS, config.MONITOR_TO_ENGINE_HEARTBEAT_TIMEOUT_MS);
  let guard: KeyGuard | undefined;
  const monitor = new Monitor({
    cpId,
    link,
    bus,
    topics,
    topicPrefix: config.EVNET_TOPIC_PREFIX,
    log,
    heartbeatS: config.MONITOR_TO_CENTRAL_HEARTBEAT_INTERVAL,
    healthEveryMs: config.MONITOR_TO_ENGINE_HEARTBEAT_INTERVAL_MS,
    onRevoked: (notice) => guard?.noticeRevoked(notice),
  });
  const useKey = async (next: ChannelKey) => monitor.setKey(next);
  if (key) monitor.setKey(key);
  await monitor.start();
  guard = startKeyGuard({ config, cpId, log, currentKeyId: () => monitor.keyId, onNewKey: useKey });
  log.info("monitor supervising", {
    cp_id: cpId,
    engine: config.ENGINE_ADDRESS,
    heartbeat_s: config.MONITOR_TO_CENTRAL_HEARTBEAT_INTERVAL,
    key_id: monitor.keyId ?? "none",
  });
  return {
    monitor,
    useKey,
    async stop() {
      guard?.stop();
      await monitor.stop();
      if (!shared.bus) await bus.close();
    },
  };
}
