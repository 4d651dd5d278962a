/** `evnet ocpp-charger` settings: who the simulated charger is, where its central system is, how it charges. */
import * as v from "valibot";
import { caFileSetting, checkTlsPair, logSettings, requiredId } from "../../config/common.ts";
import { optionalString, positiveNumber } from "../../config/env.ts";
import { type ConfigOf, defineSettings, type FlagValues, loadSettings, schemaOf } from "../../config/settings.ts";

export const chargerSettings = defineSettings({
  OCPP_CHARGER_ID: {
    flag: "--id <id>",
    help: "its OCPP identity (the last part of the URL; the basic-auth user)",
    schema: requiredId(),
    example: "CP_OCPP_01",
  },
  OCPP_URL: {
    flag: "--url <url>",
    help: "the central system, ws(s)://host:port/ocpp (the id is appended)",
    schema: v.pipe(v.string("is required"), v.regex(/^wss?:\/\/.+/, "expected a ws:// or wss:// URL")),
    example: "ws://127.0.0.1:9000/ocpp",
  },
  OCPP_VERSION: {
    flag: "--ocpp <version>",
    help: "the OCPP version it speaks: 1.6 or 2.0.1",
    schema: v.optional(v.picklist(["1.6", "2.0.1"], "expected 1.6 or 2.0.1"), "1.6"),
  },
  OCPP_PASSWORD: { flag: "--password <pw>", help: "its OCPP password (security profiles 1 and 2)", schema: optionalString(), secret: "value" },
  OCPP_CHARGER_CERT: {
    flag: "--cert <pem>",
    help: "its client certificate (security profile 3: evnet certs --charger <id>)",
    schema: optionalString(),
    example: "certs/chargers/CP_OCPP_01.pem",
  },
  OCPP_CHARGER_KEY: {
    flag: "--key <pem>",
    help: "its client key (profile 3)",
    schema: optionalString(),
    example: "certs/chargers/CP_OCPP_01-key.pem",
    secret: "file",
  },
  EVNET_CA_FILE: { ...caFileSetting, help: "CA certificate that signed the gateway's, for wss:// (the ca.pem of 'evnet certs')" },
  OCPP_CHARGER_POWER_KW: { flag: "--power-kw <kw>", help: "the power it delivers while charging (kW)", schema: positiveNumber(11, "a power in kW") },
  OCPP_METER_INTERVAL: {
    flag: "--meter-interval <s>",
    help: "seconds between meter values during a charge",
    schema: positiveNumber(10, "a number of seconds"),
  },
  OCPP_CHARGER_VENDOR: { help: "the vendor it reports at boot", schema: v.optional(v.string(), "evnet") },
  OCPP_CHARGER_MODEL: { help: "the model it reports at boot", schema: v.optional(v.string(), "simulated charger") },
  ...logSettings,
});

export const chargerConfigSchema = schemaOf(chargerSettings);
export type ChargerConfig = ConfigOf<typeof chargerSettings>;

export function loadChargerConfig(flags: FlagValues<typeof chargerSettings> = {}): ChargerConfig {
  return checkTlsPair(loadSettings(chargerSettings, flags), "OCPP_CHARGER_CERT", "OCPP_CHARGER_KEY");
}
