/** The top-level error boundary: known errors print plainly, anything else with its stack. */
import { BusError } from "../bus/bus.ts";
import { ConfigError } from "../config/env.ts";
import { AppError } from "../lib/errors.ts";

export function reportError(err: unknown): number {
  if (err instanceof ConfigError) {
    console.error(`evnet: ${err.message}`);
    return 78; // EX_CONFIG
  }
  if (err instanceof AppError) {
    console.error(`evnet: ${err.message}`);
    return err.code === "not_implemented" ? 69 : 1;
  }
  if (err instanceof BusError) {
    console.error(`evnet: ${err.message}`);
    return 69; // EX_UNAVAILABLE: Kafka could not be reached
  }
  if (err instanceof Error && err.name === "CACError") {
    console.error(`evnet: ${err.message}. See 'evnet --help'.`);
    return 2;
  }
  console.error("evnet: unexpected error:", err);
  return 1;
}
