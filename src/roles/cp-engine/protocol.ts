/**
 * The engine's local port, where its monitor talks to it: newline-delimited JSON, one request
 * and one answer per line, answers carrying the request's id. The monitor health-checks the
 * engine there every second and hands it the CP's channel key (the engine holds no key of its
 * own making). It listens on loopback by default: the key crosses it in the clear.
 */
import * as v from "valibot";

export const healthRequestSchema = v.object({ id: v.number(), op: v.literal("health") });

export const keyRequestSchema = v.object({
  id: v.number(),
  op: v.literal("key"),
  cp_id: v.string(),
  key_id: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  /** base64url of the 32-byte key */
  key: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/, "expected 32 bytes in base64url")),
});

export const engineRequestSchema = v.variant("op", [healthRequestSchema, keyRequestSchema]);
export type EngineRequest = v.InferOutput<typeof engineRequestSchema>;

export interface HealthAnswer {
  id: number;
  ok: true;
  cp_id: string;
  status: "OK" | "KO";
  supplying: boolean;
  session_id: string | null;
  /** The meter of the supply in progress (kWh), null when idle. */
  energy_kwh: number | null;
  has_key: boolean;
  key_id: string | null;
}

export interface KeyAnswer {
  id: number;
  ok: true;
}

export interface ErrorAnswer {
  id: number | null;
  ok: false;
  error: string;
}

export type EngineAnswer = HealthAnswer | KeyAnswer | ErrorAnswer;
