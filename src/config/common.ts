/** Config pieces several roles share: the database, the bus. */
import * as v from "valibot";
import { brokerList, integer, optionalString, postgresUrl } from "./env.ts";

export const databaseEntries = {
  DATABASE_URL: postgresUrl(),
  EVNET_DATA_DIR: v.optional(v.pipe(v.string(), v.minLength(1)), ".evnet"),
  DATABASE_POOL_SIZE: integer(10, 1),
};

export const busEntries = {
  KAFKA_BROKERS: brokerList(),
  /** Prefix for every topic name, so several networks (or test runs) can share a broker. */
  EVNET_TOPIC_PREFIX: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]*$/, "expected letters, digits, . _ -")), "evnet"),
  KAFKA_CLIENT_ID: optionalString(),
  /** Partitions of the topics a role creates at start (more partitions: more Central instances can share the load). */
  KAFKA_TOPIC_PARTITIONS: integer(3, 1),
  /** How long a silent consumer-group member keeps its partitions before the others take them over. */
  KAFKA_SESSION_TIMEOUT_MS: integer(10_000, 1_000),
  /** How often a group member signals it is alive; keep it well under the session timeout. */
  KAFKA_HEARTBEAT_INTERVAL_MS: integer(1_000, 100),
};
