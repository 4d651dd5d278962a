/** The network's figures (summary tiles, live snapshot, /metrics), declared once. */
import * as v from "valibot";
import { CP_STATES } from "../../domain/cp-state.ts";

/** A count per CP state, every state present (0 when none). */
export const countsByStateSchema = v.object(
  Object.fromEntries(CP_STATES.map((s) => [s, v.number()])) as Record<(typeof CP_STATES)[number], v.NumberSchema<undefined>>,
);
export type CountsByState = v.InferOutput<typeof countsByStateSchema>;

export const networkSummarySchema = v.object({
  charging_points: v.number(),
  by_state: countsByStateSchema,
  /** Chargers in a city under a frost alert. */
  in_frost: v.number(),
  sessions_in_progress: v.number(),
  power_kw: v.number(),
  energy_in_progress_kwh: v.number(),
  sessions_last_day: v.number(),
  energy_last_day_kwh: v.number(),
  drivers: v.number(),
  drivers_charging: v.number(),
});
export type NetworkSummary = v.InferOutput<typeof networkSummarySchema>;
