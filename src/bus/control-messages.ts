/**
 * Control messages on `topics.centralControl`: what other roles tell Central so that Central,
 * which owns CP state, applies the change. Keyed by CP id (per-CP order), plain JSON: they carry
 * ids and reasons, never keys or credentials.
 *
 * Add a variant here (and to `controlMessageSchema`) when a role needs to tell Central something
 * new; Central refuses (and audits) a message it cannot read, types it does not know included.
 */
import * as v from "valibot";
import { CITY_MAX } from "../db/city-key.ts";
import { idSchema, textSchema } from "../domain/ids.ts";
import type { Parsed } from "../lib/parsed.ts";
import type { OutgoingMessage } from "./bus.ts";
import { parseJson } from "./messages.ts";

const id = idSchema();
const isoTime = v.pipe(v.string(), v.isoTimestamp());
const reason = textSchema(500);
const actorId = v.nullable(textSchema(128));

/** What an operator can tell Central to do to a CP (besides revoking its key). */
export const OPERATOR_COMMANDS = ["operator_stop", "operator_resume"] as const;

/** The API issued a fresh channel key to an authenticated CP: Central reloads it; the CP becomes ACTIVE. */
export const cpAuthenticatedSchema = v.object({
  type: v.literal("cp_authenticated"),
  cp_id: id,
  key_id: id,
  at: isoTime,
});

/** An operator revoked a CP's key(s): Central refuses them, tells the CP, and stops it. */
export const keyRevokedSchema = v.object({
  type: v.literal("key_revoked"),
  cp_id: id,
  key_ids: v.array(id),
  reason,
  actor_type: v.picklist(["operator", "system", "service"]),
  actor_id: actorId,
  at: isoTime,
});

/**
 * The API stored a city's temperature (PUT /ev/central/city-temperature); keyed by city. Central
 * applies the weather policy to every CP in that city; repeated messages re-apply harmlessly.
 */
export const cityTemperatureMessage = v.object({
  type: v.literal("city_temperature"),
  city: textSchema(CITY_MAX, undefined, { required: true }),
  temperature_c: v.pipe(v.number(), v.finite()),
  alert: v.boolean(),
  critical_c: v.pipe(v.number(), v.finite()),
  reported_at: isoTime,
});

/** An operator stopped or resumed a CP (Central's admin menu, `evnet central stop|resume`). */
export const operatorCommandSchema = v.object({
  type: v.picklist(OPERATOR_COMMANDS),
  cp_id: id,
  actor_id: actorId,
  reason,
  at: isoTime,
});

export const controlMessageSchema = v.variant("type", [cpAuthenticatedSchema, keyRevokedSchema, cityTemperatureMessage, operatorCommandSchema]);

export type CpAuthenticated = v.InferOutput<typeof cpAuthenticatedSchema>;
export type KeyRevoked = v.InferOutput<typeof keyRevokedSchema>;
export type CityTemperatureMessage = v.InferOutput<typeof cityTemperatureMessage>;
export type OperatorCommand = v.InferOutput<typeof operatorCommandSchema>;
export type ControlMessage = v.InferOutput<typeof controlMessageSchema>;

/** Parses a control message; the reason names the first bad field of anything that is not one. */
export function parseControlMessage(value: Uint8Array | string): Parsed<ControlMessage> {
  return parseJson(controlMessageSchema, value);
}

/** The outgoing bus message for a control message, keyed by its CP (or its city). */
export function controlMessage(message: ControlMessage): OutgoingMessage {
  const key = message.type === "city_temperature" ? message.city : message.cp_id;
  return { key, value: JSON.stringify(message) };
}
