/**
 * Where temperatures come from. Two providers implement this: OpenWeather (with an API key) and
 * an offline file an operator edits (without one), so demos and tests need no internet.
 */

import type { ReadFailureKind, TemperatureReading } from "../../../domain/temperature-reading.ts";
import { KnownError } from "../../../lib/errors.ts";

export interface TemperatureProvider {
  /** `openweather` or `offline`, for logs, audit entries and the menu. */
  readonly name: string;
  /**
   * The shortest gap between two calls the provider's plan allows (0: no limit). The office
   * spaces its calls by it and stretches its round so the plan is never exceeded.
   */
  readonly minMsBetweenCalls: number;
  /** Reads a city's temperature now; throws a ReadFailure (never anything else) when it cannot. */
  read(city: string, signal?: AbortSignal): Promise<TemperatureReading>;
}

/** A reading that failed, with why (see READ_FAILURE_KINDS) and what the provider said. */
export class ReadFailure extends KnownError {
  override name = "ReadFailure";
  constructor(
    readonly kind: ReadFailureKind,
    message: string,
    readonly details: { httpStatus?: number; retryAfterMs?: number } = {},
  ) {
    super(message);
  }
}
