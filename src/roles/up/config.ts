/**
 * `evnet up` settings: how big the simulated network is and where the dashboard listens.
 * Everything else (tokens, master key, signing keys) is made once and kept in the data folder.
 */

import * as v from "valibot";
import { apiServerSettings, busSettings, caFileSetting, checkTlsPair, databaseSettings, dataDirSetting, logSettings } from "../../config/common.ts";
import { integer, port, positiveNumber } from "../../config/env.ts";
import { enrollmentTokenSetting, masterKeySetting, operatorTokenSetting, optionalSecret, serviceTokenSetting } from "../../config/identity.ts";
import { type ConfigOf, defineSettings, type FlagValues, loadSettings, schemaOf } from "../../config/settings.ts";

const madeIfMissing = " (made and kept in the data folder when not given)";

export const upSettings = defineSettings({
  UP_CPS: {
    flag: "--cps <n>",
    help: "simulated charging points, spread over a few cities",
    schema: v.pipe(integer(5, 0), v.maxValue(500, "expected at most 500 simulated charging points")),
  },
  UP_OCPP_CPS: {
    flag: "--ocpp-cps <n>",
    help: "simulated OCPP chargers, alternately 1.6 and 2.0.1, through an OCPP gateway in the network",
    schema: v.pipe(integer(0, 0), v.maxValue(500, "expected at most 500 simulated OCPP chargers")),
  },
  UP_OCPP_PORT: {
    flag: "--ocpp-port <port>",
    help: "where that gateway listens for chargers, ws://127.0.0.1:PORT/ocpp (real chargers may connect too)",
    schema: port(9000),
  },
  UP_DRIVERS: {
    flag: "--drivers <n>",
    help: "simulated drivers charging in auto mode",
    schema: v.pipe(integer(3, 0), v.maxValue(200, "expected at most 200 simulated drivers")),
  },
  UP_CHARGE_SECONDS: { flag: "--charge-seconds <s>", help: "how long each simulated charge lasts", schema: positiveNumber(20, "a number of seconds") },
  UP_PAUSE_SECONDS: { help: "seconds a simulated driver waits between two charges", schema: positiveNumber(4, "a number of seconds") },
  ...apiServerSettings,
  ...databaseSettings,
  ...busSettings,
  EVNET_DATA_DIR: { ...dataDirSetting, help: "where the embedded database, the secrets and the simulated CPs' keys are kept; one network per folder" },
  EVNET_CA_FILE: { ...caFileSetting, help: "the CA that signed --tls-cert, for the roles that join this network from elsewhere" },
  EVNET_OPERATOR_TOKEN: optionalSecret({ ...operatorTokenSetting, help: operatorTokenSetting.help + madeIfMissing }),
  EVNET_SERVICE_TOKEN: optionalSecret({ ...serviceTokenSetting, help: serviceTokenSetting.help + madeIfMissing }),
  EVNET_ENROLLMENT_TOKEN: optionalSecret({ ...enrollmentTokenSetting, help: enrollmentTokenSetting.help + madeIfMissing }),
  EVNET_MASTER_KEY: optionalSecret({ ...masterKeySetting, help: masterKeySetting.help + madeIfMissing }),
  ...logSettings,
});

export const upConfigSchema = schemaOf(upSettings);
export type UpConfig = ConfigOf<typeof upSettings>;

export function loadUpConfig(flags: FlagValues<typeof upSettings> = {}): UpConfig {
  return checkTlsPair(loadSettings(upSettings, flags), "API_TLS_CERT", "API_TLS_KEY");
}
