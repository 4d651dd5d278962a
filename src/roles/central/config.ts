import * as v from "valibot";
import { busEntries, databaseEntries } from "../../config/common.ts";
import { integer, loadConfig, optionalString, positiveNumber } from "../../config/env.ts";
import { masterKey } from "../../config/identity.ts";

export const centralConfigSchema = v.object({
  ...databaseEntries,
  ...busEntries,
  /** Unwraps the CPs' channel keys; must be the API's. */
  EVNET_MASTER_KEY: masterKey(),
  /** Central instances sharing this consumer group split the CPs between them (default `<topic prefix>.central`). */
  EVNET_CENTRAL_GROUP: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,100}$/, "expected letters, digits, . _ -"))),
  /** Names this instance in logs and as the sender of its sealed commands (default host-pid). */
  CENTRAL_INSTANCE_ID: optionalString(),
  /** Heartbeat interval assumed for CPs whose monitor has not announced its own (seconds). */
  MONITOR_TO_CENTRAL_HEARTBEAT_INTERVAL: positiveNumber(5, "a number of seconds"),
  /** How long Central waits for the engine's final reading after asking it to stop (seconds). */
  CENTRAL_SESSION_END_GRACE: positiveNumber(5, "a number of seconds"),
  /** How long Central waits for the engine to confirm a start before closing the session (seconds). */
  CENTRAL_SESSION_START_TIMEOUT: positiveNumber(15, "a number of seconds"),
  /** A driver request older than this when Central reads it is refused as expired (seconds). */
  CENTRAL_REQUEST_MAX_AGE: positiveNumber(120, "a number of seconds"),
  /** Partitions whose batches one Central applies at once (each still in order): overlaps database round trips. */
  CENTRAL_PARALLEL_PARTITIONS: integer(6, 1),
  /** Most messages of one partition applied in one transaction. */
  CENTRAL_MAX_BATCH: integer(2000, 1),
  /** A partition's next batch starts at least this many ms after its previous one (unless a full batch waits). */
  CENTRAL_BATCH_INTERVAL: integer(50, 0),
  /** How often Central looks for silent CPs and overdue sessions (seconds). */
  CENTRAL_SWEEP_INTERVAL: positiveNumber(1, "a number of seconds"),
  /** Serves /metrics, /livez and /readyz on this port when set (off by default). */
  CENTRAL_METRICS_PORT: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,5}$/, "expected a TCP port number (0-65535)"),
      v.transform(Number),
      v.maxValue(65535, "expected a TCP port number (0-65535)"),
    ),
  ),
  /** Where the metrics port listens (0.0.0.0 for every interface). */
  CENTRAL_METRICS_HOST: v.optional(v.pipe(v.string(), v.minLength(1)), "127.0.0.1"),
});

export type CentralConfig = v.InferOutput<typeof centralConfigSchema>;

export function loadCentralConfig(flags: Partial<Record<keyof CentralConfig, unknown>> = {}): CentralConfig {
  return loadConfig(centralConfigSchema, flags);
}
