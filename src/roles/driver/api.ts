/**
 * What the driver's app reads from Central's REST API (public reads): the CPs free to charge
 * at, and the driver's past sessions, validated against the shapes the API declares. Charging
 * itself goes over the bus and needs no API.
 */
import type * as v from "valibot";
import { caFileOf } from "../../config/common.ts";
import { settingLabel } from "../../config/env.ts";
import { callJson, type JsonReply, NoReply, readReply, refusalText } from "../../http/json-client.ts";
import { tlsFetch } from "../../http/tls-client.ts";
import { AppError } from "../../lib/errors.ts";
import { localTime } from "../../lib/local-time.ts";
import { type ChargingPointView, chargingPointListSchema, type SessionView, sessionListSchema } from "../api/shapes.ts";
import type { DriverConfig } from "./config.ts";
import { endReasonText } from "./output.ts";

/** Central's API cannot be reached, refused, or answered in a shape this app does not know: reported plainly by the CLI. */
export class ApiUnavailable extends AppError {
  constructor(message: string, hint?: string) {
    super("unavailable", message, undefined, { hint });
  }
}

async function getJson<S extends v.GenericSchema>(config: DriverConfig, path: string, schema: S): Promise<v.InferOutput<S>> {
  let reply: JsonReply;
  try {
    reply = await callJson(tlsFetch(caFileOf(config), "EVNET_CA_FILE"), `${config.API_URL}${path}`, { timeoutMs: 5000 });
  } catch (err) {
    if (!(err instanceof NoReply)) throw err;
    throw new ApiUnavailable(`cannot reach Central's API at ${config.API_URL}: ${err.why}`, err.hint ?? `is it running? Check ${settingLabel("API_URL")}`);
  }
  if (!reply.ok) throw new ApiUnavailable(`Central's API answered ${reply.status} for ${path}: ${refusalText(reply)}`);
  const body = readReply(schema, reply);
  if (!body.ok) throw new ApiUnavailable(`Central's API answered ${path} in an unexpected shape (${body.reason}); is it another version of evnet?`);
  return body.value;
}

export async function availableCps(config: DriverConfig): Promise<ChargingPointView[]> {
  return (await getJson(config, "/ev/central/charging-points?status=ACTIVE", chargingPointListSchema)).charging_points;
}

export async function history(config: DriverConfig, driverId: string, limit = 20): Promise<SessionView[]> {
  return (await getJson(config, `/ev/central/sessions?driver_id=${encodeURIComponent(driverId)}&limit=${limit}`, sessionListSchema)).sessions;
}

export function formatCps(cps: ChargingPointView[]): string {
  if (cps.length === 0) return "no charging point is available right now";
  return cps.map((c) => `${c.cp_id.padEnd(12)} ${c.location.padEnd(14)} ${c.price_per_kwh.toFixed(2)} €/kWh`).join("\n");
}

export function formatHistory(sessions: SessionView[]): string {
  if (sessions.length === 0) return "no sessions yet";
  return sessions
    .map(
      (s) =>
        `${localTime(s.started_at)}  ${s.cp_id.padEnd(10)} ${s.energy_kwh.toFixed(3)} kWh  ${s.cost_eur.toFixed(2)} €  ${s.duration_s} s  ${s.status === "FINISHED" ? endReasonText(s.end_reason) : "in progress"}`,
    )
    .join("\n");
}
