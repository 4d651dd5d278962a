import * as v from "valibot";
import { apiUrlSetting, busSettings, dataDirSetting, discoveredCaFileSetting, logSettings } from "../../config/common.ts";
import { optionalString, positiveNumber, secretToken } from "../../config/env.ts";
import { enrollmentTokenSetting, optionalSecret } from "../../config/identity.ts";
import { type ConfigOf, defineSettings, type FlagValues, loadSettings, schemaOf } from "../../config/settings.ts";
import { DRIVER_ID_PATTERN, DRIVER_ID_RULE } from "../../identity/drivers.ts";

const seconds = (what: string) =>
  v.optional(
    v.pipe(
      v.string(),
      v.transform(Number),
      v.number(`expected ${what}`),
      v.check((n) => Number.isFinite(n) && n >= 0, `expected ${what}`),
    ),
  );

export const driverSettings = defineSettings({
  DRIVER_ID: {
    flag: "--id <driver>",
    help: "the driver's id, also the id tag of its RFID card",
    schema: v.pipe(v.string("is required"), v.regex(DRIVER_ID_PATTERN, `expected ${DRIVER_ID_RULE}`)),
    example: "D1",
  },
  API_URL: {
    ...apiUrlSetting,
    help: "Central's API: to register and authenticate the driver, list available CPs and show the history (the charging itself goes over the bus)",
  },
  EVNET_CA_FILE: discoveredCaFileSetting,
  EVNET_DATA_DIR: { ...dataDirSetting, help: "where the driver's credential and key are kept (owner-only driver-<id>.json)" },
  EVNET_ENROLLMENT_TOKEN: optionalSecret(
    { ...enrollmentTokenSetting, help: "the first run registers the driver with the operator's enrollment token" },
    v.optional(secretToken()),
  ),
  DRIVER_CREDENTIAL: {
    help: "or the credential an operator registered the driver with (also: a new one from an operator)",
    schema: optionalString(),
    secret: "value",
  },
  DRIVER_CHARGE_SECONDS: {
    flag: "--charge-seconds <s>",
    help: "stop each charge after this many seconds",
    schema: seconds("a number of seconds"),
    defaultText: "until it ends by itself",
    example: "10",
  },
  DRIVER_PAUSE_SECONDS: {
    flag: "--pause-seconds <s>",
    help: "auto mode: seconds to pause between two CPs",
    schema: v.pipe(v.optional(v.string(), "4"), v.transform(Number), v.number(), v.minValue(0, "expected seconds >= 0")),
  },
  ...busSettings,
  DRIVER_REQUEST_TIMEOUT: {
    help: "seconds to wait for Central's answer to a request (re-sent every DRIVER_RETRY_SECONDS meanwhile)",
    schema: positiveNumber(60, "a number of seconds"),
  },
  DRIVER_TICKET_TIMEOUT: { help: "seconds to wait for the ticket after asking to stop", schema: positiveNumber(180, "a number of seconds") },
  DRIVER_RETRY_SECONDS: {
    help: "a request not answered within this many seconds is sent again (same request id)",
    schema: positiveNumber(3, "a number of seconds"),
  },
  ...logSettings,
});

export const driverConfigSchema = schemaOf(driverSettings);
export type DriverConfig = ConfigOf<typeof driverSettings>;

export function loadDriverConfig(flags: FlagValues<typeof driverSettings> = {}): DriverConfig {
  return loadSettings(driverSettings, flags);
}
