/**
 * Control messages on `topics.centralControl`: what other roles tell Central so that Central,
 * which owns CP state, applies the change. Keyed by CP id (per-CP order) or by city. Each is
 * signed by the service that sends it (src/crypto/signed-messages.ts): Central acts only on
 * messages it can verify, and refuses (and audits) forged, altered, replayed or stale ones.
 * They carry ids and reasons, never keys, credentials or charging figures (a city's alert
 * says whether it is in frost, not its temperature: Central reads that from the database).
 *
 * Add a variant here (and to `controlMessageSchema`) when a role needs to tell Central something
 * new; Central sets aside (and audits) a message it cannot read, types it does not know included.
 */
import * as v from "valibot";
import type { MessageSigner } from "../crypto/signed-messages.ts";
import { CITY_MAX } from "../db/city-key.ts";
import { idSchema, textSchema } from "../domain/ids.ts";
import { AppError } from "../lib/errors.ts";
import type { Parsed } from "../lib/parsed.ts";
import type { Bus, OutgoingMessage } from "./bus.ts";
import { parseJson } from "./messages.ts";
import type { Topics } from "./topics.ts";

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
 * The API stored a city's temperature (PUT /ev/central/city-temperature) and with it whether
 * the city is in frost alert; keyed by city. Central applies the weather policy to every CP in
 * that city; repeated messages re-apply harmlessly.
 */
export const cityTemperatureMessage = v.object({
  type: v.literal("city_temperature"),
  city: textSchema(CITY_MAX, undefined, { required: true }),
  alert: v.boolean(),
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

/** Parses a verified message's body; the reason names the first bad field of anything that is not a control message. */
export function parseControlMessage(body: Uint8Array | string): Parsed<ControlMessage> {
  return parseJson(controlMessageSchema, body);
}

/** The bus key of a control message: its CP, or its city. */
export function controlKey(message: ControlMessage): string {
  return message.type === "city_temperature" ? message.city : message.cp_id;
}

/** The outgoing bus message for a control message, signed for its key. */
export function signedControl(signer: MessageSigner, message: ControlMessage): OutgoingMessage {
  const key = controlKey(message);
  return { key, value: signer.sign(key, JSON.stringify(message)) };
}

/** What a role needs to tell Central something: the bus, and its control signing key (if configured). */
export interface ControlSender {
  bus: Bus;
  topics: Topics;
  controlSigner?: MessageSigner;
}

/**
 * Signs and publishes control messages. Without a signing key nothing can be sent (Central
 * would refuse it): an `unavailable` AppError saying what to configure. Bus failures are thrown
 * as they are (BusError), for the caller to report.
 */
export async function sendControl(to: ControlSender, messages: ControlMessage[]): Promise<void> {
  const signer = to.controlSigner;
  if (!signer)
    throw new AppError("unavailable", "Central cannot be told: this service has no control signing key (EVNET_CONTROL_SIGNING_KEY, made by 'evnet certs')");
  await to.bus.publish(
    to.topics.centralControl,
    messages.map((m) => signedControl(signer, m)),
  );
}
