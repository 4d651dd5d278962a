/**
 * Settings several roles share, declared once: the database, the bus, the CA clients trust,
 * the API's address (as a server and as a client), logging. Role tables compose these groups
 * (src/roles/<role>/config.ts); where a shared setting means something more precise for one
 * role, that role's table overrides its help, never its name or flag.
 */
import { existsSync } from "node:fs";
import * as v from "valibot";
import { DEFAULT_SESSION_TIMEOUT_MS } from "../bus/bus.ts";
import { idSchema } from "../domain/ids.ts";
import { bool, brokerList, ConfigError, integer, optionalString, port, positiveNumber, postgresUrl, settingLabel, url } from "./env.ts";
import { defineSettings, type Setting } from "./settings.ts";

const nonEmpty = v.pipe(v.string(), v.minLength(1));

export const dataDirSetting = {
  flag: "--data-dir <dir>",
  help: "folder of the embedded database (used without DATABASE_URL)",
  schema: v.optional(nonEmpty, ".evnet"),
} satisfies Setting;

export const databaseSettings = defineSettings({
  DATABASE_URL: {
    flag: "--database-url <url>",
    help: "PostgreSQL URL; without it an embedded database (PGlite) in the data folder, for one process",
    schema: postgresUrl(),
    example: "postgres://evnet:evnet@127.0.0.1:5432/evnet",
  },
  EVNET_DATA_DIR: dataDirSetting,
  DATABASE_POOL_SIZE: { help: "connections each role keeps open to PostgreSQL", schema: integer(10, 1) },
  DATABASE_START_WAIT_S: {
    help: "how long a service starting waits for PostgreSQL to answer before it gives up (s); 0: at once",
    schema: integer(60, 0),
  },
  DATABASE_PREPARED_STATEMENTS: {
    help: "prepare each statement once per connection and reuse it; false behind a pooler that does not keep prepared statements (PgBouncer in transaction mode before 1.21)",
    schema: bool(true),
  },
});

/** The brake on failed authentications (src/http/brakes.ts), for the roles that authenticate clients. */
export const brakeSettings = defineSettings({
  EVNET_AUTH_FAILURES_PER_MINUTE: {
    help: "failed authentications a source address may have per minute before it is answered 429 (with Retry-After) for the rest of that minute",
    schema: integer(20, 1),
  },
});

export const busSettings = defineSettings({
  KAFKA_BROKERS: {
    flag: "--kafka-brokers <list>",
    help: "Kafka brokers, host:port[,host:port]; without them an in-process bus that only roles inside one process (evnet up) share",
    schema: brokerList(),
    example: "127.0.0.1:9092",
    renamedFrom: { flag: "--brokers <list>" },
  },
  EVNET_TOPIC_PREFIX: {
    flag: "--topic-prefix <prefix>",
    help: "prefix of every topic name, so several networks (or test runs) can share one broker",
    schema: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]*$/, "expected letters, digits, . _ -")), "evnet"),
  },
  KAFKA_CLIENT_ID: {
    help: "client id shown in the broker's logs and metrics",
    schema: optionalString(),
    defaultText: "evnet-<role>",
    example: "evnet-central-1",
  },
  KAFKA_TOPIC_PARTITIONS: {
    help: "partitions of the topics a role creates at start; more partitions let more Central instances share the load",
    schema: integer(3, 1),
  },
  KAFKA_SESSION_TIMEOUT_MS: {
    help: "how long a silent consumer-group member (a crashed Central, say) keeps its partitions before the others take them (ms); too short and a slow but alive one is taken for dead (docs/failover.md); brokers refuse less than their group.min.session.timeout.ms (6000 unless configured)",
    schema: integer(DEFAULT_SESSION_TIMEOUT_MS, 1_000),
  },
  KAFKA_HEARTBEAT_INTERVAL_MS: {
    help: "how often a group member tells the broker it is alive (ms); at most a third of the session timeout",
    schema: integer(1_000, 100),
  },
  KAFKA_TLS: { help: "connect to the brokers over TLS (implied by KAFKA_TLS_CA_FILE); their certificates are always checked", schema: bool(false) },
  KAFKA_TLS_CA_FILE: {
    help: "the CA the brokers' certificates chain to (the ca.pem of 'evnet certs')",
    schema: optionalString(),
    defaultText: "the system's CAs",
    example: "certs/ca.pem",
  },
  KAFKA_SASL_MECHANISM: {
    help: "SASL mechanism of this role's Kafka principal: SCRAM-SHA-512 (recommended), SCRAM-SHA-256, or PLAIN (only with TLS)",
    schema: v.optional(v.picklist(["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"], "expected SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN")),
    example: "SCRAM-SHA-512",
  },
  KAFKA_SASL_USERNAME: { help: "this role's Kafka principal ('evnet kafka-acls' lists one per role)", schema: optionalString(), example: "evnet-central" },
  KAFKA_SASL_PASSWORD: { help: "the principal's password (or KAFKA_SASL_PASSWORD_FILE)", schema: optionalString(), secret: "value" },
  KAFKA_SASL_PASSWORD_FILE: {
    help: "a file holding the principal's password (owner-only), to keep it out of the environment",
    schema: optionalString(),
    example: "/etc/evnet/kafka-password",
    secret: "file",
  },
  KAFKA_ALLOW_PLAINTEXT: {
    help: "accept a broker on another machine without TLS and SASL (anyone on the network can then read and write the bus)",
    schema: bool(false),
  },
});

/**
 * Roles on their own process need Kafka to reach the others: an in-process bus there would
 * connect them to nobody (a driver's request would wait a minute for an answer that cannot
 * come). They refuse to start without KAFKA_BROKERS and say how to give it; only `evnet up`,
 * which runs every role in one process, uses the in-process bus.
 */
export function requireBrokers<C extends { KAFKA_BROKERS?: string[] }>(config: C, what = "to reach the other roles"): C & { KAFKA_BROKERS: string[] } {
  if (config.KAFKA_BROKERS?.length) return config as C & { KAFKA_BROKERS: string[] };
  throw new ConfigError(`Kafka is needed ${what}, and ${settingLabel("KAFKA_BROKERS")} is not set`, {
    hint: "give the brokers (--kafka-brokers host:port, or KAFKA_BROKERS in the environment or .env); the in-process bus only joins the roles inside one 'evnet up'",
  });
}

export const DEFAULT_CA_FILE = "certs/ca.pem";

export const caFileSetting = {
  flag: "--ca-file <file>",
  help: "CA certificate that signed evnet's HTTPS servers (the ca.pem of 'evnet certs')",
  schema: optionalString(),
  example: DEFAULT_CA_FILE,
  renamedFrom: { flag: "--api-ca-file <file>", variable: "API_CA_FILE" },
} satisfies Setting;

/** For clients that look for the CA where `evnet certs` puts it (the monitor, the driver). */
export const discoveredCaFileSetting = { ...caFileSetting, defaultText: `${DEFAULT_CA_FILE} when it exists` } satisfies Setting;

/** The CA file to trust: the configured one, else the default from `evnet certs` if it is there. */
export function caFileOf(config: { EVNET_CA_FILE?: string }): string | undefined {
  if (config.EVNET_CA_FILE) return config.EVNET_CA_FILE;
  return existsSync(DEFAULT_CA_FILE) ? DEFAULT_CA_FILE : undefined;
}

const host = (fallback: string) => v.optional(nonEmpty, fallback);

/** Where the API and dashboard listen (`evnet api`, `evnet up`). */
export const apiServerSettings = defineSettings({
  API_HOST: { flag: "--host <addr>", help: "address the API and dashboard listen on (0.0.0.0: every interface)", schema: host("127.0.0.1") },
  API_PORT: { flag: "--port <port>", help: "port of the API and dashboard", schema: port(8000) },
  API_TLS_CERT: {
    flag: "--tls-cert <file>",
    help: "server certificate (from 'evnet certs'), to serve HTTPS; plain HTTP without it",
    schema: optionalString(),
    example: "certs/server.pem",
  },
  API_TLS_KEY: {
    flag: "--tls-key <file>",
    help: "the server certificate's private key",
    schema: optionalString(),
    example: "certs/server-key.pem",
    secret: "file",
  },
});

/** A certificate without its key (or the reverse) is a mistake, not a request for plain HTTP. */
export function checkTlsPair<C extends Record<string, unknown>>(config: C, cert: keyof C & string, key: keyof C & string): C {
  if (Boolean(config[cert]) === Boolean(config[key])) return config;
  const [given, missing] = config[cert] ? [cert, key] : [key, cert];
  throw new ConfigError(`${settingLabel(given)} is given without ${settingLabel(missing)}`, {
    hint: "give both (HTTPS, with the pair 'evnet certs' makes) or neither (plain HTTP)",
  });
}

/** Where clients reach Central's API: the default is where `evnet api` and `evnet up` listen. */
export const apiUrlSetting = {
  flag: "--api-url <url>",
  help: "Central's API",
  schema: v.optional(url(), "http://127.0.0.1:8000"),
} satisfies Setting;

/** An id given as a setting (a CP's, a driver's): required, the rule every edge uses. */
export const requiredId = () => v.pipe(v.string("is required"), idSchema());

/** The CP's id; its engine and its monitor use the same. */
export const cpIdSetting = {
  flag: "--id <cp>",
  help: "the charging point's id (its engine and its monitor use the same)",
  schema: requiredId(),
  example: "CP_001",
} satisfies Setting;

/** Read by every monitor (each announces its interval) and by Central (for CPs that announced none). */
export const heartbeatIntervalSetting = {
  flag: "--heartbeat-interval <s>",
  help: "seconds between a monitor's heartbeats to Central (Central assumes it for CPs that announced none); a CP is DISCONNECTED after 3 missed",
  schema: positiveNumber(5, "a number of seconds"),
} satisfies Setting;

export const logSettings = defineSettings({
  EVNET_LOG_LEVEL: {
    help: "least important log lines shown: debug, info, warn or error",
    schema: v.optional(v.picklist(["debug", "info", "warn", "error"], "expected debug, info, warn or error"), "info"),
  },
  EVNET_LOG_FORMAT: {
    help: "text (time level [role] message key=value) or json (one JSON object per line, for log collectors)",
    schema: v.optional(v.picklist(["text", "json"], "expected text or json"), "text"),
  },
});
