/**
 * The OpenWeather client: Current Weather Data, `GET {base}/data/2.5/weather?q={city}&appid={key}&units=metric`.
 * Every failure comes back as a ReadFailure with a kind the office knows how to handle: 401 a
 * bad key, 404 an unknown city, 429 the plan's limit (with Retry-After when given), 5xx an
 * outage, no answer in time a timeout, and anything that is not the documented JSON malformed.
 * The API key never appears in a log line or an error message.
 */
import * as v from "valibot";
import type { TemperatureReading } from "../../../domain/temperature-reading.ts";
import { ReadFailure, type TemperatureProvider } from "./provider.ts";

export interface OpenWeatherOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  /** The plan's limits (free plan: 60 calls/minute, 1,000,000 calls/month). */
  callsPerMinute: number;
  callsPerMonth: number;
}

/** The part of the documented answer we rely on: `main.temp` (°C with units=metric) and `dt`. */
const currentWeather = v.object({
  main: v.object({ temp: v.pipe(v.number(), v.finite()) }),
  /** Where the city is; a reading without it (or with a wrong one) still counts. */
  coord: v.fallback(
    v.optional(v.object({ lat: v.pipe(v.number(), v.minValue(-90), v.maxValue(90)), lon: v.pipe(v.number(), v.minValue(-180), v.maxValue(180)) })),
    undefined,
  ),
  dt: v.optional(v.number()),
  name: v.optional(v.string()),
});

/** Error bodies: `{"cod":401,"message":"Invalid API key. ..."}`, `{"cod":"404","message":"city not found"}`. */
const errorBody = v.object({ cod: v.optional(v.union([v.number(), v.string()])), message: v.optional(v.string()) });

const MAX_BODY_CHARS = 256 * 1024;
const LONGEST_MONTH_MS = 31 * 24 * 3600 * 1000;

/** The gap between calls that keeps a plan's per-minute and per-month limits. */
export function minMsBetweenCalls(callsPerMinute: number, callsPerMonth: number): number {
  return Math.max(60_000 / callsPerMinute, LONGEST_MONTH_MS / callsPerMonth);
}

export class OpenWeatherProvider implements TemperatureProvider {
  readonly name = "openweather";
  readonly minMsBetweenCalls: number;

  constructor(private readonly options: OpenWeatherOptions) {
    this.minMsBetweenCalls = minMsBetweenCalls(options.callsPerMinute, options.callsPerMonth);
  }

  /** The request URL for a city (the key included: never log it). */
  urlFor(city: string): string {
    const url = new URL("data/2.5/weather", this.options.baseUrl.endsWith("/") ? this.options.baseUrl : `${this.options.baseUrl}/`);
    url.searchParams.set("q", city);
    url.searchParams.set("appid", this.options.apiKey);
    url.searchParams.set("units", "metric");
    return url.toString();
  }

  async read(city: string, signal?: AbortSignal): Promise<TemperatureReading> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const abort = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let status: number;
    let headers: Headers;
    let text: string;
    try {
      const res = await fetch(this.urlFor(city), { signal: abort, headers: { accept: "application/json" } });
      status = res.status;
      headers = res.headers;
      text = await res.text();
    } catch (err) {
      if (timeout.aborted) throw new ReadFailure("timeout", `OpenWeather did not answer within ${this.options.timeoutMs} ms`);
      if (signal?.aborted) throw new ReadFailure("timeout", "the read was cancelled (stopping)");
      throw new ReadFailure("network", `cannot reach OpenWeather at ${this.options.baseUrl}: ${describe(err)}`);
    }
    if (status === 200) return this.readingFrom(city, text);
    throw this.failureFrom(status, headers, text);
  }

  private readingFrom(city: string, text: string): TemperatureReading {
    const body = parseJson(text);
    if (body === undefined) throw new ReadFailure("malformed", `OpenWeather answered 200 with a body that is not JSON (${preview(text)})`, { httpStatus: 200 });
    // OpenWeather has been seen answering HTTP 200 with an error `cod` in the body.
    const cod = v.safeParse(errorBody, body);
    if (cod.success && cod.output.cod !== undefined && String(cod.output.cod) !== "200") throw this.failureFrom(Number(cod.output.cod), new Headers(), text);
    const parsed = v.safeParse(currentWeather, body);
    if (!parsed.success) throw new ReadFailure("malformed", `OpenWeather answered 200 without a numeric main.temp (${preview(text)})`, { httpStatus: 200 });
    const { main, dt, coord } = parsed.output;
    return {
      city,
      temperatureC: main.temp,
      observedAt: dt ? new Date(dt * 1000) : new Date(),
      source: this.name,
      ...(coord ? { coordinates: { latitude: coord.lat, longitude: coord.lon } } : {}),
    };
  }

  private failureFrom(status: number, headers: Headers, text: string): ReadFailure {
    const body = v.safeParse(errorBody, parseJson(text));
    const said = body.success && body.output.message ? body.output.message : preview(text);
    const details = { httpStatus: status };
    if (status === 401) return new ReadFailure("unauthorized", `OpenWeather refused the API key (401): ${said}`, details);
    if (status === 404) return new ReadFailure("city_not_found", `OpenWeather does not know this city (404): ${said}`, details);
    if (status === 429) {
      const retryAfterMs = retryAfter(headers.get("retry-after"));
      return new ReadFailure("rate_limited", `OpenWeather's call limit was exceeded (429): ${said}`, {
        ...details,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    }
    if (status >= 500 && status <= 599) return new ReadFailure("server_error", `OpenWeather failed (${status}): ${said}`, details);
    return new ReadFailure("unexpected_status", `OpenWeather answered ${status}: ${said}`, details);
  }
}

function parseJson(text: string): unknown {
  if (text.length > MAX_BODY_CHARS) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The start of a body, on one line, for an error message. */
function preview(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (!flat) return "empty body";
  return flat.length > 120 ? `${flat.slice(0, 120)}…` : flat;
}

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfter(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function describe(err: unknown): string {
  if (err instanceof Error) return (err as { code?: string }).code ? `${(err as { code?: string }).code}: ${err.message}` : err.message;
  return String(err);
}
