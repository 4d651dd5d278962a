/** Config pieces several roles share: the database, the bus. */
import * as v from "valibot";
import { bool, brokerList, integer, optionalString, postgresUrl } from "./env.ts";

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
  /** Connect to the brokers over TLS, verifying them with the system's CAs or KAFKA_TLS_CA_FILE. */
  KAFKA_TLS: bool(false),
  /** The CA the brokers' certificates chain to (the `evnet certs` ca.pem); implies KAFKA_TLS. */
  KAFKA_TLS_CA_FILE: optionalString(),
  /** SASL mechanism of this role's Kafka principal; PLAIN only over TLS. */
  KAFKA_SASL_MECHANISM: v.optional(v.picklist(["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"], "expected SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN")),
  /** This role's Kafka principal (`evnet kafka-acls` lists one per role). */
  KAFKA_SASL_USERNAME: optionalString(),
  /** Its password; or KAFKA_SASL_PASSWORD_FILE, a file holding it (kept out of the environment). */
  KAFKA_SASL_PASSWORD: optionalString(),
  KAFKA_SASL_PASSWORD_FILE: optionalString(),
  /** Accept a broker that is not on this machine without TLS and SASL (anyone on the network could read and write the bus). */
  KAFKA_ALLOW_PLAINTEXT: bool(false),
};
