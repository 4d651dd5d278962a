import * as v from "valibot";
import { apiUrlSetting, busSettings, discoveredCaFileSetting, logSettings, requiredId } from "../../config/common.ts";
import { positiveNumber } from "../../config/env.ts";
import { type ConfigOf, defineSettings, type FlagValues, loadSettings, schemaOf } from "../../config/settings.ts";

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
  DRIVER_ID: { flag: "--id <driver>", help: "the driver's id", schema: requiredId(), example: "D1" },
  API_URL: { ...apiUrlSetting, help: "Central's API, to list available CPs and show the history (the charging itself goes over the bus)" },
  EVNET_CA_FILE: discoveredCaFileSetting,
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
