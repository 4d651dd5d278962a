/** `evnet ocpp-charger` settings: who the simulated charger is, where its central system is, how it charges. */
import * as v from "valibot";
import { ConfigError, loadConfig, optionalString, positiveNumber } from "../../config/env.ts";
import { idSchema } from "../../domain/ids.ts";

export const chargerConfigSchema = v.object({
  /** Its OCPP identity (the last part of the URL; the basic-auth user). */
  OCPP_CHARGER_ID: idSchema(),
  /** The central system: ws(s)://host:port/ocpp (the id is appended). */
  OCPP_URL: v.pipe(v.string("is required (--url)"), v.regex(/^wss?:\/\/.+/, "expected a ws:// or wss:// URL")),
  OCPP_VERSION: v.optional(v.picklist(["1.6", "2.0.1"], "expected 1.6 or 2.0.1"), "1.6"),
  /** Its OCPP password (profiles 1 and 2). */
  OCPP_PASSWORD: optionalString(),
  /** Its client certificate and key (profile 3), and the CA that signed the gateway's certificate. */
  OCPP_CHARGER_CERT: optionalString(),
  OCPP_CHARGER_KEY: optionalString(),
  EVNET_CA_FILE: optionalString(),
  /** Power it delivers while charging (kW). */
  OCPP_CHARGER_POWER_KW: positiveNumber(11, "a power in kW"),
  /** Seconds between meter values during a charge. */
  OCPP_METER_INTERVAL: positiveNumber(10, "a number of seconds"),
  OCPP_CHARGER_VENDOR: v.optional(v.string(), "evnet"),
  OCPP_CHARGER_MODEL: v.optional(v.string(), "simulated charger"),
});

export type ChargerConfig = v.InferOutput<typeof chargerConfigSchema>;

export function loadChargerConfig(flags: Partial<Record<keyof ChargerConfig, unknown>> = {}): ChargerConfig {
  const config = loadConfig(chargerConfigSchema, flags);
  if (Boolean(config.OCPP_CHARGER_CERT) !== Boolean(config.OCPP_CHARGER_KEY))
    throw new ConfigError("invalid configuration:\n  OCPP_CHARGER_CERT, OCPP_CHARGER_KEY: give both (security profile 3) or neither");
  return config;
}
