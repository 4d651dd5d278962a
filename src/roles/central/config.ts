import * as v from "valibot";
import { busSettings, databaseSettings, heartbeatIntervalSetting, logSettings } from "../../config/common.ts";
import { bool, integer, number, optionalString, positiveNumber } from "../../config/env.ts";
import { controlPublicKeySetting, controlSigningKeySetting, masterKeySetting } from "../../config/identity.ts";
import { type ConfigOf, defineSettings, type FlagValues, loadSettings, schemaOf } from "../../config/settings.ts";

export const centralSettings = defineSettings({
  ...databaseSettings,
  ...busSettings,
  EVNET_MASTER_KEY: masterKeySetting,
  EVNET_CONTROL_PUBLIC_KEY: controlPublicKeySetting,
  EVNET_CONTROL_SIGNING_KEY: { ...controlSigningKeySetting, help: "the admin menu signs stop, resume and revocation with it (from 'evnet certs')" },
  CENTRAL_CONTROL_MAX_AGE: {
    help: "a control message signed longer ago than this many seconds (or in the future) is refused as stale",
    schema: positiveNumber(3600, "a number of seconds"),
  },
  EVNET_CENTRAL_GROUP: {
    flag: "--group <id>",
    help: "consumer group the Central instances share; they split the CPs between them",
    schema: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,100}$/, "expected letters, digits, . _ -"))),
    defaultText: "<topic prefix>.central",
    example: "evnet.central",
  },
  CENTRAL_INSTANCE_ID: {
    flag: "--instance <name>",
    help: "this instance's name in logs, audit entries and the health report (and the sender of its sealed commands)",
    schema: optionalString(),
    defaultText: "host-pid",
    example: "central-1",
  },
  MONITOR_TO_CENTRAL_HEARTBEAT_INTERVAL: heartbeatIntervalSetting,
  CENTRAL_SESSION_END_GRACE: {
    help: "seconds Central waits for the engine's final reading after asking it to stop (then it bills the last one)",
    schema: positiveNumber(5, "a number of seconds"),
  },
  CENTRAL_SESSION_START_TIMEOUT: {
    help: "seconds Central waits for the engine to confirm it started before closing the session unbilled",
    schema: positiveNumber(15, "a number of seconds"),
  },
  CENTRAL_REQUEST_MAX_AGE: {
    help: "a driver request older than this many seconds when Central reads it is refused as expired",
    schema: positiveNumber(120, "a number of seconds"),
  },
  CENTRAL_OPENING_THREAD: {
    help: "open the envelopes of a batch (AES-GCM) on a helper thread, beside the one that applies them; false: on that one",
    schema: bool(true),
  },
  CENTRAL_OPENING_THREAD_MIN_BATCH: {
    help: "fewest envelopes of a batch sent to the opening thread (a backlog's batches); a smaller one, as at a steady 1 Hz, is opened in place, where it costs less than the crossing",
    schema: integer(1000, 1),
  },
  CENTRAL_PARALLEL_PARTITIONS: {
    help: "partitions whose batches one Central applies at once (each still in order); overlaps database round trips",
    schema: integer(6, 1),
  },
  CENTRAL_MAX_BATCH: {
    help: "most messages Central applies in one transaction (of one partition, or of several together); under a backlog a larger one writes a session's row once for more of its readings and catches up faster, but holds more in memory meanwhile (1-2 GiB for a backlog of a million readings at 20000, under 1 GiB at 2000)",
    schema: integer(20_000, 1),
  },
  CENTRAL_PARTITIONS_PER_TRANSACTION: {
    help: "most partitions whose batches, ready at the same moment, Central applies in one transaction (Kafka); 1: each partition's alone",
    schema: integer(6, 1),
  },
  CENTRAL_BATCH_INTERVAL: {
    help: "milliseconds between the starts of two batches of one partition (unless a full batch waits): fewer, fuller transactions under light load; 0: none",
    schema: integer(50, 0),
  },
  CENTRAL_COMMIT_INTERVAL: {
    help: "milliseconds between two offset commits to Kafka (what Central applied is in its database; the commit only says where to read from after a restart or a rebalance); 0: each as soon as it can",
    schema: integer(250, 0),
  },
  CENTRAL_PROGRESS_INTERVAL: {
    help: "seconds between two live progress updates of one session to its driver (the newest reading then); 0: every reading",
    schema: v.pipe(number(2, "a number of seconds, 0 or more"), v.minValue(0, "expected a number of seconds, 0 or more")),
  },
  CENTRAL_READINGS_INTERVAL: {
    help: "seconds a session's newest telemetry reading may wait before its row is written (Kafka; drivers' progress and bills do not wait, nor the API's session figures while Central has a control signing key to publish them with); 0: every reading as it comes",
    schema: v.pipe(number(0, "a number of seconds, 0 or more"), v.minValue(0, "expected a number of seconds, 0 or more")),
  },
  CENTRAL_SWEEP_INTERVAL: {
    help: "seconds between Central's sweeps (silent CPs, overdue sessions, unsent messages)",
    schema: positiveNumber(1, "a number of seconds"),
  },
  CENTRAL_METRICS_PORT: {
    help: "port for Central's /metrics (Prometheus), /livez and /readyz; unset: not served",
    schema: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^\d{1,5}$/, "expected a TCP port number (0-65535)"),
        v.transform(Number),
        v.maxValue(65535, "expected a TCP port number (0-65535)"),
      ),
    ),
    example: "7003",
  },
  CENTRAL_METRICS_HOST: { help: "where that port listens (0.0.0.0 for every interface)", schema: v.optional(v.pipe(v.string(), v.minLength(1)), "127.0.0.1") },
  ...logSettings,
});

export const centralConfigSchema = schemaOf(centralSettings);
export type CentralConfig = ConfigOf<typeof centralSettings>;

export function loadCentralConfig(flags: FlagValues<typeof centralSettings> = {}): CentralConfig {
  return loadSettings(centralSettings, flags);
}

/** `evnet central <operation>`: the database, and the bus and the control signing key for stop, resume and revoke. */
export const operationSettings = defineSettings({
  ...databaseSettings,
  ...busSettings,
  EVNET_CONTROL_SIGNING_KEY: { ...controlSigningKeySetting, help: "stop, resume and revocation are signed with it for Central (from 'evnet certs')" },
  ...logSettings,
});
export type OperationConfig = ConfigOf<typeof operationSettings>;
