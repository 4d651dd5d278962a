/**
 * The weather office's side of Central's API: where it learns which cities to watch and where
 * it reports temperatures, provider failures and its heartbeat. The office runs on its own
 * machine without a database, so this is its only way in. HTTPS is verified against the local
 * CA (EVNET_CA_FILE) rather than switched off.
 *
 * Failures come in two kinds the office treats differently: CentralUnreachable (no connection,
 * a timeout, a 5xx such as 503 "bus or database down": try again later, nothing is lost) and
 * CentralRejected (a 4xx: the request itself is wrong, e.g. a bad service token; sending it
 * again would not help).
 */

import * as v from "valibot";
import { type Fetch, tlsFetch } from "../../http/tls-client.ts";
import type { CityTemperatureReport, WeatherEventReport, WeatherHeartbeat } from "../../http/weather-api.ts";
import { KnownError } from "../../lib/errors.ts";

export class CentralUnreachable extends KnownError {
  override name = "CentralUnreachable";
}

export class CentralRejected extends KnownError {
  override name = "CentralRejected";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface CentralClientOptions {
  /** Central's API, e.g. https://central.example:8000 */
  baseUrl: string;
  serviceToken: string;
  /** PEM file of the CA that signed the API's certificate (`evnet certs`). */
  caFile?: string;
  timeoutMs?: number;
}

const chargingPointsAnswer = v.union([v.object({ charging_points: v.array(v.object({ location: v.string() })) }), v.array(v.object({ location: v.string() }))]);
const locationsAnswer = v.object({ locations: v.array(v.object({ city: v.string() })) });
const reportAnswer = v.object({ city: v.string(), alert: v.boolean(), transition: v.string() });

const errorMessage = v.object({ error: v.object({ code: v.string(), message: v.string() }) });

export class CentralClient {
  private readonly fetch: Fetch;
  private readonly timeoutMs: number;

  constructor(private readonly options: CentralClientOptions) {
    this.fetch = tlsFetch(options.caFile, "EVNET_CA_FILE");
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  /** Distinct locations of the registered CPs. */
  async chargingPointLocations(): Promise<string[]> {
    const answer = v.safeParse(chargingPointsAnswer, await this.request("GET", "/ev/central/charging-points"));
    if (!answer.success) throw new CentralRejected(200, "GET /ev/central/charging-points answered in an unexpected shape");
    const list = Array.isArray(answer.output) ? answer.output : answer.output.charging_points;
    return list.map((cp) => cp.location);
  }

  /** Locations operators added through the API. */
  async operatorLocations(): Promise<string[]> {
    const answer = v.safeParse(locationsAnswer, await this.request("GET", "/ev/central/weather/locations"));
    if (!answer.success) throw new CentralRejected(200, "GET /ev/central/weather/locations answered in an unexpected shape");
    return answer.output.locations.map((l) => l.city);
  }

  async reportTemperature(report: CityTemperatureReport): Promise<{ alert: boolean; transition: string }> {
    const answer = v.safeParse(reportAnswer, await this.request("PUT", "/ev/central/city-temperature", report));
    if (!answer.success) throw new CentralRejected(200, "PUT /ev/central/city-temperature answered in an unexpected shape");
    return answer.output;
  }

  async reportEvent(event: WeatherEventReport): Promise<void> {
    await this.request("POST", "/ev/central/weather/events", event);
  }

  async heartbeat(beat: WeatherHeartbeat): Promise<void> {
    await this.request("PUT", "/ev/central/weather/heartbeat", beat);
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const url = new URL(path, this.options.baseUrl).toString();
    const headers: Record<string, string> = { accept: "application/json" };
    if (method !== "GET") headers.authorization = `Bearer ${this.options.serviceToken}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    let text: string;
    try {
      res = await this.fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      const why =
        err instanceof Error && err.name === "TimeoutError" ? `no answer within ${this.timeoutMs} ms` : err instanceof Error ? err.message : String(err);
      throw new CentralUnreachable(`${method} ${path}: cannot reach Central's API at ${this.options.baseUrl}: ${why}`);
    }
    const parsed = parseJson(text);
    if (res.ok) return parsed;
    const said = v.safeParse(errorMessage, parsed);
    const message = `${method} ${path} answered ${res.status}${said.success ? ` ${said.output.error.code}: ${said.output.error.message}` : ""}`;
    if (res.status >= 500) throw new CentralUnreachable(message);
    throw new CentralRejected(res.status, message);
  }
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
