import * as v from "valibot";
import { busEntries } from "../../config/common.ts";
import { loadConfig, optionalString, positiveNumber, url } from "../../config/env.ts";

const driverId = v.pipe(v.string("is required (--id)"), v.regex(/^[A-Za-z0-9_.-]{1,64}$/, "expected 1-64 letters, digits, '_', '.' or '-'"));
const seconds = (what: string) =>
  v.optional(
    v.pipe(
      v.string(),
      v.transform(Number),
      v.number(`expected ${what}`),
      v.check((n) => Number.isFinite(n) && n >= 0, `expected ${what}`),
    ),
  );

export const driverConfigSchema = v.object({
  ...busEntries,
  DRIVER_ID: driverId,
  /** Central's API, to list available CPs and show the history (optional: the bus does the charging). */
  API_URL: v.optional(url(), "https://127.0.0.1:8000"),
  EVNET_CA_FILE: optionalString(),
  /** Auto mode: seconds to charge at each CP before stopping (unset: until the session ends by itself). */
  DRIVER_CHARGE_SECONDS: seconds("a number of seconds"),
  /** Auto mode: pause between two CPs. */
  DRIVER_PAUSE_SECONDS: v.pipe(v.optional(v.string(), "4"), v.transform(Number), v.number(), v.minValue(0, "expected seconds >= 0")),
  /** How long to wait for Central's answer to a request before giving up (it is re-sent meanwhile). */
  DRIVER_REQUEST_TIMEOUT: positiveNumber(60, "a number of seconds"),
  /** How long to wait for the ticket after asking to stop. */
  DRIVER_TICKET_TIMEOUT: positiveNumber(180, "a number of seconds"),
  /** A request not answered within this many seconds is sent again (same request id). */
  DRIVER_RETRY_SECONDS: positiveNumber(3, "a number of seconds"),
});

export type DriverConfig = v.InferOutput<typeof driverConfigSchema>;

export function loadDriverConfig(flags: Partial<Record<keyof DriverConfig, unknown>> = {}): DriverConfig {
  return loadConfig(driverConfigSchema, flags);
}
