/**
 * The weather office's side of Central's API: where it learns which cities to watch and where
 * it reports temperatures, provider failures and its heartbeat. The office runs on its own
 * machine without a database, so this is its only way in. HTTPS is verified against the local
 * CA (EVNET_CA_FILE) rather than switched off.
 *
 * Failures come in two kinds the office treats differently: CentralUnreachable (no connection,
 * a timeout, a 5xx such as 503 "bus or database down": try again later, nothing is lost) and
 * CentralRejected (a 4xx: the request itself is wrong, e.g. a bad service token; or an answer
 * that is not in the shape src/roles/api/shapes.ts declares: sending it again would not help).
 */
import * as v from "valibot";
import { callJson, type JsonReply, NoReply, readReply } from "../../http/json-client.ts";
import { type Fetch, tlsFetch } from "../../http/tls-client.ts";
import type { CityTemperatureReport, WeatherEventReport, WeatherHeartbeat } from "../../http/weather-api.ts";
import { KnownError } from "../../lib/errors.ts";
import { type CityWeatherStored, chargingPointListSchema, cityWeatherStoredSchema, weatherLocationListSchema } from "../api/shapes.ts";

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
    const answer = await this.request("GET", "/ev/central/charging-points", chargingPointListSchema);
    return answer.charging_points.map((cp) => cp.location);
  }

  /** Locations operators added through the API. */
  async operatorLocations(): Promise<string[]> {
    const answer = await this.request("GET", "/ev/central/weather/locations", weatherLocationListSchema);
    return answer.locations.map((l) => l.city);
  }

  reportTemperature(report: CityTemperatureReport): Promise<CityWeatherStored> {
    return this.request("PUT", "/ev/central/city-temperature", cityWeatherStoredSchema, report);
  }

  async reportEvent(event: WeatherEventReport): Promise<void> {
    await this.request("POST", "/ev/central/weather/events", v.unknown(), event);
  }

  async heartbeat(beat: WeatherHeartbeat): Promise<void> {
    await this.request("PUT", "/ev/central/weather/heartbeat", v.unknown(), beat);
  }

  private async request<S extends v.GenericSchema>(method: string, path: string, shape: S, body?: unknown): Promise<v.InferOutput<S>> {
    const url = new URL(path, this.options.baseUrl).toString();
    let reply: JsonReply;
    try {
      reply = await callJson(this.fetch, url, { method, body, token: method === "GET" ? undefined : this.options.serviceToken, timeoutMs: this.timeoutMs });
    } catch (err) {
      if (!(err instanceof NoReply)) throw err;
      throw new CentralUnreachable(`${method} ${path}: cannot reach Central's API at ${this.options.baseUrl}: ${err.why}`);
    }
    if (!reply.ok) {
      const message = `${method} ${path} answered ${reply.status}${reply.error ? ` ${reply.error.code}: ${reply.error.message}` : ""}`;
      if (reply.status >= 500) throw new CentralUnreachable(message);
      throw new CentralRejected(reply.status, message);
    }
    const answer = readReply(shape, reply);
    if (!answer.ok) throw new CentralRejected(reply.status, `${method} ${path} answered in an unexpected shape (${answer.reason})`);
    return answer.value;
  }
}
