/**
 * `evnet up` settings: how big the simulated network is and where the dashboard listens.
 * Everything else (tokens, master key, signing keys) is made once and kept in the data folder.
 */
import * as v from "valibot";
import { busEntries } from "../../config/common.ts";
import { ConfigError, integer, loadConfig, optionalString, port, positiveNumber, postgresUrl } from "../../config/env.ts";

export const upConfigSchema = v.object({
  DATABASE_URL: postgresUrl(),
  ...busEntries,
  EVNET_DATA_DIR: v.optional(v.pipe(v.string(), v.minLength(1)), ".evnet"),
  /** How many simulated charging points, spread over a few cities. */
  UP_CPS: v.pipe(integer(5, 0), v.maxValue(500, "expected at most 500 simulated charging points")),
  /** How many simulated OCPP chargers (alternately 1.6 and 2.0.1) connect to an OCPP gateway in the network. */
  UP_OCPP_CPS: v.pipe(integer(0, 0), v.maxValue(500, "expected at most 500 simulated OCPP chargers")),
  /** Where that gateway listens for chargers (ws://127.0.0.1:PORT/ocpp; real chargers may connect too). */
  UP_OCPP_PORT: port(9000),
  /** How many simulated drivers charging in auto mode. */
  UP_DRIVERS: v.pipe(integer(3, 0), v.maxValue(200, "expected at most 200 simulated drivers")),
  /** Seconds each simulated charge lasts before the driver stops it. */
  UP_CHARGE_SECONDS: positiveNumber(20, "a number of seconds"),
  /** Seconds a simulated driver waits between two charges. */
  UP_PAUSE_SECONDS: positiveNumber(4, "a number of seconds"),
  /** The dashboard and API listen here: loopback unless asked (e.g. --host 0.0.0.0). */
  API_HOST: v.optional(v.pipe(v.string(), v.minLength(1)), "127.0.0.1"),
  API_PORT: port(8000),
  /** With both, the API and Registry serve HTTPS (from `evnet certs`); plain HTTP otherwise. */
  API_TLS_CERT: optionalString(),
  API_TLS_KEY: optionalString(),
  EVNET_CA_FILE: optionalString(),
  /** Given tokens and master key win over the ones kept in the data folder. */
  EVNET_OPERATOR_TOKEN: optionalString(),
  EVNET_SERVICE_TOKEN: optionalString(),
  EVNET_ENROLLMENT_TOKEN: optionalString(),
  EVNET_MASTER_KEY: optionalString(),
});

export type UpConfig = v.InferOutput<typeof upConfigSchema>;

export function loadUpConfig(flags: Partial<Record<keyof UpConfig, unknown>> = {}): UpConfig {
  const config = loadConfig(upConfigSchema, flags);
  if (Boolean(config.API_TLS_CERT) !== Boolean(config.API_TLS_KEY))
    throw new ConfigError("invalid configuration:\n  API_TLS_CERT, API_TLS_KEY: give both (HTTPS) or neither (plain HTTP on loopback)");
  return config;
}
