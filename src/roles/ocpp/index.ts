/**
 * `evnet ocpp`: the OCPP-J gateway. Real chargers (OCPP 1.6J, 2.0.1) connect here and join the
 * network as CPs: the gateway authenticates each one, gets its channel key from the API, plays
 * its engine and monitor on the bus (sealed events, opened commands) and turns Central's
 * commands into OCPP calls. Central needs no OCPP knowledge. Several gateways may run side by
 * side (behind a load balancer): each serves the chargers connected to it.
 */
import { availableParallelism, hostname } from "node:os";
import { createAuditor } from "../../audit/audit.ts";
import { ensureTopicsIfReachable } from "../../bus/keep-subscribed.ts";
import { busOptionsFrom, openBus } from "../../bus/open.ts";
import { RetryingPublisher } from "../../bus/retrying-publisher.ts";
import { allTopics, topicsFor } from "../../bus/topics.ts";
import { migrate } from "../../db/migrate.ts";
import { createLogger } from "../../lib/log.ts";
import { roleDatabase, type Shared } from "../shared.ts";
import { followCommands, watchKeys } from "./commands.ts";
import type { GatewayConfig } from "./config.ts";
import { ConnectionRecords } from "./connections.ts";
import type { GatewayContext } from "./context.ts";
import { HeldKeys } from "./held-keys.ts";
import { createKeyClient } from "./key-client.ts";
import type { ChargerLink } from "./link.ts";
import { listen } from "./listener.ts";
import { PasswordChecks } from "./password-checks.ts";
import { MeterNotes } from "./transactions.ts";

export interface RunningGateway {
  url: string;
  port: number;
  ctx: GatewayContext;
  stop(): Promise<void>;
}

const KEY_CHECK_EVERY_MS = 5_000;

export async function start(config: GatewayConfig, shared: Shared = {}): Promise<RunningGateway> {
  const instance = config.OCPP_INSTANCE_ID ?? `${hostname()}-${process.pid}`;
  const log = shared.log ?? createLogger("ocpp");
  const database = await roleDatabase(shared, config, "ocpp", log);
  await migrate(database.db);
  const bus = shared.bus ?? (await openBus(busOptionsFrom(config, `evnet-ocpp-${instance}`)));
  const topics = topicsFor(config.EVNET_TOPIC_PREFIX);
  await ensureTopicsIfReachable(bus, allTopics(topics), log);
  const ctx: GatewayContext = {
    db: database.db,
    bus,
    topics,
    log,
    auditor: createAuditor(database.db, log),
    config,
    instance,
    // Thousands of chargers' events: large batches, so that one round trip to the broker at a
    // time carries what they send (about a thousand MeterValues a second at 10,000 chargers).
    publisher: new RetryingPublisher(bus, log, { maxBatch: 2000 }),
    keys: new HeldKeys(createKeyClient({ apiUrl: config.API_URL, caFile: config.EVNET_CA_FILE, token: config.EVNET_GATEWAY_TOKEN, gateway: instance })),
    passwords: new PasswordChecks({
      concurrency: config.OCPP_PASSWORD_CHECKS || availableParallelism(),
      maxWaitMs: config.OCPP_HANDSHAKE_WAIT * 1000,
    }),
    connections: new ConnectionRecords(database.db, instance),
    meterNotes: new MeterNotes(database.db, (err, count) => log.warn("could not store chargers' newest meter readings now", { count, err })),
    links: new Map<string, ChargerLink>(),
  };
  const commands = followCommands(ctx);
  await commands.ready;
  const keys = watchKeys(ctx, KEY_CHECK_EVERY_MS);
  const listening = await listen(ctx);
  log.info("ocpp gateway listening", { url: listening.url, instance, tls: listening.url.startsWith("wss") });
  return {
    url: listening.url,
    port: listening.port,
    ctx,
    async stop() {
      keys.stop();
      await listening.close();
      await commands.close();
      await ctx.publisher.drain(2000);
      ctx.publisher.close();
      await ctx.meterNotes.written();
      if (!shared.bus) await bus.close();
      if (!shared.database) await database.close();
    },
  };
}
