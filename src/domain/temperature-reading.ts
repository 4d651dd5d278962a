/**
 * A temperature reading and the ways reading one can fail, shared by the weather office (its
 * providers) and the API (which audits the failures the weather office reports).
 */

export interface TemperatureReading {
  /** The city as the weather office watches it (a CP's location or an operator's entry). */
  city: string;
  temperatureC: number;
  /** When the provider observed it (OpenWeather's `dt`; the file's change time offline). */
  observedAt: Date;
  /** Which provider read it: `openweather` or `offline`. */
  source: string;
  /** Where the city is, when the provider says (OpenWeather's `coord`, the offline file's entry): the map places it there. */
  coordinates?: Coordinates;
}

export interface Coordinates {
  latitude: number;
  longitude: number;
}

/**
 * Why a reading failed. Each is logged and audited; none changes an alert: the last known
 * temperature stands until a good reading replaces it.
 */
export const READ_FAILURE_KINDS = [
  /** 401: the API key is wrong, blocked or not activated yet. */
  "unauthorized",
  /** 404: the provider does not know the city (or the offline file has no entry for it). */
  "city_not_found",
  /** 429: over the plan's call limit; the office backs off. */
  "rate_limited",
  /** 5xx from the provider. */
  "server_error",
  /** No answer in time. */
  "timeout",
  /** Could not connect (DNS, refused, TLS). */
  "network",
  /** An answer that is not the documented JSON (HTML, truncated, no main.temp, unreadable file). */
  "malformed",
  /** Any other HTTP status. */
  "unexpected_status",
] as const;
export type ReadFailureKind = (typeof READ_FAILURE_KINDS)[number];

/** The kinds that concern the whole account, not one city: the rest of the round is skipped. */
export function failsForEveryCity(kind: ReadFailureKind): boolean {
  return kind === "unauthorized" || kind === "rate_limited";
}
