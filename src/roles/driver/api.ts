/**
 * What the driver's app reads from Central's REST API (public reads): the CPs free to charge
 * at, and the driver's past sessions. Charging itself goes over the bus and needs no API.
 */
import { caFileOf } from "../../config/common.ts";
import { settingLabel } from "../../config/env.ts";
import { explainFetchFailure, tlsFetch } from "../../http/tls-client.ts";
import { AppError } from "../../lib/errors.ts";
import { localTime } from "../../lib/local-time.ts";
import type { DriverConfig } from "./config.ts";
import { endReasonText } from "./output.ts";

export interface CpListing {
  cp_id: string;
  location: string;
  status: string;
  price_per_kwh: number;
  temperature_c?: number | null;
}

export interface PastSession {
  session_id: string;
  cp_id: string;
  status: string;
  energy_kwh: number;
  cost_eur: number;
  started_at: string;
  ended_at: string | null;
  end_reason: string | null;
  duration_s: number;
}

/** Central's API cannot be reached or refused: reported plainly by the CLI. */
export class ApiUnavailable extends AppError {
  constructor(message: string, hint?: string) {
    super("unavailable", message, undefined, { hint });
  }
}

async function getJson(config: DriverConfig, path: string): Promise<any> {
  const url = `${config.API_URL}${path}`;
  let res: Response;
  try {
    res = await tlsFetch(caFileOf(config), "EVNET_CA_FILE")(url, { signal: AbortSignal.timeout(5000) });
  } catch (err) {
    const { why, hint } = explainFetchFailure(err, url);
    throw new ApiUnavailable(`cannot reach Central's API at ${config.API_URL}: ${why}`, hint ?? `is it running? Check ${settingLabel("API_URL")}`);
  }
  if (!res.ok) throw new ApiUnavailable(`Central's API answered ${res.status} for ${path}`);
  return res.json();
}

export async function availableCps(config: DriverConfig): Promise<CpListing[]> {
  const body = await getJson(config, "/ev/central/charging-points?status=ACTIVE");
  return (body.charging_points ?? []) as CpListing[];
}

export async function history(config: DriverConfig, driverId: string, limit = 20): Promise<PastSession[]> {
  const body = await getJson(config, `/ev/central/sessions?driver_id=${encodeURIComponent(driverId)}&limit=${limit}`);
  return (body.sessions ?? []) as PastSession[];
}

export function formatCps(cps: CpListing[]): string {
  if (cps.length === 0) return "no charging point is available right now";
  return cps.map((c) => `${c.cp_id.padEnd(12)} ${c.location.padEnd(14)} ${c.price_per_kwh.toFixed(2)} €/kWh`).join("\n");
}

export function formatHistory(sessions: PastSession[]): string {
  if (sessions.length === 0) return "no sessions yet";
  return sessions
    .map(
      (s) =>
        `${localTime(s.started_at)}  ${s.cp_id.padEnd(10)} ${s.energy_kwh.toFixed(3)} kWh  ${s.cost_eur.toFixed(2)} €  ${s.duration_s} s  ${s.status === "FINISHED" ? endReasonText(s.end_reason) : "in progress"}`,
    )
    .join("\n");
}
