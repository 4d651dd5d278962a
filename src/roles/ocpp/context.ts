/** What the gateway's parts share. */
import type { Auditor } from "../../audit/audit.ts";
import type { Bus } from "../../bus/bus.ts";
import type { RetryingPublisher } from "../../bus/retrying-publisher.ts";
import type { Topics } from "../../bus/topics.ts";
import type { Db } from "../../db/client.ts";
import type { Logger } from "../../lib/log.ts";
import type { GatewayConfig } from "./config.ts";
import type { ConnectionRecords } from "./connections.ts";
import type { HeldKeys } from "./held-keys.ts";
import type { ChargerLink } from "./link.ts";
import type { PasswordChecks } from "./password-checks.ts";
import type { MeterNotes } from "./transactions.ts";

export interface GatewayContext {
  db: Db;
  bus: Bus;
  topics: Topics;
  log: Logger;
  auditor: Auditor;
  config: GatewayConfig;
  /** This gateway's name, in the audit log and in `ocpp_chargers.gateway`. */
  instance: string;
  /** Every event for Central leaves through it, in order. */
  publisher: RetryingPublisher;
  /** Chargers' channel keys: kept across reconnections here, fetched from the API in batches otherwise. */
  keys: HeldKeys;
  passwords: PasswordChecks;
  /** Where its chargers are connected, written in the order their sockets open and close. */
  connections: ConnectionRecords;
  /** Open transactions' newest register readings, written together. */
  meterNotes: MeterNotes;
  /** The chargers whose sockets this gateway holds, by id. */
  links: Map<string, ChargerLink>;
}
