/**
 * The JSON shapes the Registry returns, declared once: its routes build their replies to these
 * types, and the CP monitor (src/roles/cp-monitor/enrollment.ts) validates what it reads with
 * them. The credential appears in the registration reply only, to the holder of the enrollment
 * token; reads never show it.
 */
import * as v from "valibot";
import { cpStateSchema, isoTime } from "../api/shapes.ts";

/** A registered CP as anyone may read it. */
export const registeredCpSchema = v.object({
  cp_id: v.string(),
  location: v.string(),
  price_per_kwh: v.number(),
  status: cpStateSchema,
  registered_at: isoTime,
  updated_at: isoTime,
});
export type RegisteredCp = v.InferOutput<typeof registeredCpSchema>;

/** `POST /ev/registry/charging-points`: the CP and its new credential (the previous one stops working). */
export const registrationSchema = v.object({
  ...registeredCpSchema.entries,
  cp_credential: v.string(),
  credential_expires_at: isoTime,
  message: v.string(),
});
export type Registration = v.InferOutput<typeof registrationSchema>;

/** `GET /ev/registry/charging-points/:cp_id`: the CP and its credential's dates. */
export const registrationRecordSchema = v.object({
  charging_point: v.object({ ...registeredCpSchema.entries, credential: v.nullable(v.object({ issued_at: isoTime, expires_at: isoTime })) }),
});
export type RegistrationRecord = v.InferOutput<typeof registrationRecordSchema>;

/** `DELETE /ev/registry/charging-points/:cp_id`. */
export const deregistrationSchema = v.object({ cp_id: v.string(), deregistered_at: isoTime, message: v.string() });
export type Deregistration = v.InferOutput<typeof deregistrationSchema>;
