/**
 * The engine's local port, where its monitor talks to it: newline-delimited JSON, one request
 * and one answer per line, answers carrying the request's id. The monitor health-checks the
 * engine there every second and hands it the CP's channel key (the engine holds no key of its
 * own making). It listens on loopback by default: the key crosses it in the clear. Both ends
 * validate what they read with these schemas.
 */
import * as v from "valibot";
import { base64url32Schema } from "../../crypto/keys.ts";
import { idSchema, textSchema } from "../../domain/ids.ts";

export const healthRequestSchema = v.object({ id: v.number(), op: v.literal("health") });

export const keyRequestSchema = v.object({
  id: v.number(),
  op: v.literal("key"),
  cp_id: idSchema(),
  key_id: idSchema(),
  /** base64url of the 32-byte key */
  key: base64url32Schema,
});

export const engineRequestSchema = v.variant("op", [healthRequestSchema, keyRequestSchema]);
export type EngineRequest = v.InferOutput<typeof engineRequestSchema>;

export const healthAnswerSchema = v.object({
  id: v.number(),
  ok: v.literal(true),
  cp_id: idSchema(),
  status: v.picklist(["OK", "KO"]),
  supplying: v.boolean(),
  session_id: v.nullable(textSchema(100)),
  /** The meter of the supply in progress (kWh), null when idle. */
  energy_kwh: v.nullable(v.number()),
  has_key: v.boolean(),
  key_id: v.nullable(idSchema()),
});
export type HealthAnswer = v.InferOutput<typeof healthAnswerSchema>;

export const keyAnswerSchema = v.object({ id: v.number(), ok: v.literal(true) });
export type KeyAnswer = v.InferOutput<typeof keyAnswerSchema>;

/** A request the engine could not read or refused; `id` is null when it could not read one. */
export const errorAnswerSchema = v.object({ id: v.nullable(v.number()), ok: v.literal(false), error: textSchema() });
export type ErrorAnswer = v.InferOutput<typeof errorAnswerSchema>;

export type EngineAnswer = HealthAnswer | KeyAnswer | ErrorAnswer;
