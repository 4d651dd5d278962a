/**
 * The Weather Control Office: every round it reads the temperature of each watched city, decides
 * frost alerts with the weather policy, and hands the readings to the reporter for Central.
 * A failed reading is logged and audited once per change (not every round), and changes
 * nothing: the city keeps its last known temperature and alert until a good reading replaces it.
 * A bad key or the rate limit concern the whole account, so the round stops there; a 429 also
 * pauses every call (see pacing.ts).
 */

import { CITY_MAX, cityKey } from "../../db/city-key.ts";
import { printable } from "../../domain/ids.ts";
import type { ReadFailureKind, TemperatureReading } from "../../domain/temperature-reading.ts";
import { failsForEveryCity } from "../../domain/temperature-reading.ts";
import { isFrostAlert } from "../../domain/weather-policy.ts";
import type { Logger } from "../../lib/log.ts";
import { Backoff, type Clock, effectiveIntervalMs, Pacer, realClock } from "./pacing.ts";
import { ReadFailure, type TemperatureProvider } from "./providers/provider.ts";
import { type CentralPort, Reporter } from "./reporter.ts";
import { type LocationSource, readLocationsFile, WatchList } from "./watch-list.ts";

export interface OfficeOptions {
  provider: TemperatureProvider;
  central: CentralPort;
  log: Logger;
  criticalC: number;
  checkIntervalMs: number;
  /** WEATHER_LOCATIONS_FILE, re-read with the other location sources. */
  locationsFile?: string;
  clock?: Clock;
  /** First pause after a 429 without Retry-After; it doubles on each further 429, up to the max. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

interface Failure {
  kind: ReadFailureKind;
  message: string;
  since: Date;
}

/** What the office knows of one city (for the menu and the heartbeat). */
export interface CityStatus {
  city: string;
  sources: LocationSource[];
  /** The last good reading, kept through failures. */
  reading?: TemperatureReading;
  alert?: boolean;
  failure?: Failure;
}

export class WeatherOffice {
  readonly watch = new WatchList();
  readonly reporter: Reporter;
  private readonly known = new Map<string, { reading?: TemperatureReading; failure?: Failure }>();
  private accountFailure: Failure | undefined;
  private readonly pacer: Pacer;
  private readonly backoff: Backoff;
  private readonly clock: Clock;
  private rounds = 0;
  private locationsWarned = "";
  /** The file's refused names last warned about, so a file is not warned about every round. */
  private fileWarned = "";

  constructor(private readonly options: OfficeOptions) {
    this.clock = options.clock ?? realClock;
    this.pacer = new Pacer(options.provider.minMsBetweenCalls, this.clock);
    this.backoff = new Backoff(options.backoffBaseMs ?? 15_000, options.backoffMaxMs ?? 10 * 60_000, this.clock);
    this.reporter = new Reporter(options.central, options.log, options.criticalC);
  }

  get provider(): TemperatureProvider {
    return this.options.provider;
  }

  get criticalC(): number {
    return this.options.criticalC;
  }

  /** How long from the start of one round to the next, for the current number of cities. */
  intervalMs(): number {
    return effectiveIntervalMs(this.options.checkIntervalMs, this.watch.cities().length, this.options.provider.minMsBetweenCalls);
  }

  /** Milliseconds before the provider may be called again after a 429 (0: it may). */
  pausedForMs(): number {
    return this.backoff.remainingMs();
  }

  /**
   * Re-reads the location sources: CPs' and operators' locations from Central's API (kept as
   * they were when it cannot be reached) and the locations file.
   */
  async refreshLocations(): Promise<void> {
    const { central, locationsFile, log } = this.options;
    try {
      const [cps, operator] = await Promise.all([central.chargingPointLocations(), central.operatorLocations()]);
      this.watch.set("cp", cps);
      this.watch.set("operator", operator);
      this.locationsWarned = "";
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      if (why !== this.locationsWarned) log.warn("cannot refresh locations from Central's API: keeping the last known ones", { why });
      this.locationsWarned = why;
    }
    const refused = locationsFile ? this.watch.set("file", readLocationsFile(locationsFile)) : [];
    if (refused.length && refused.join("\n") !== this.fileWarned)
      log.warn("the locations file names cities that cannot be watched (over 100 characters, or control characters)", {
        file: locationsFile,
        names: refused.map((c) => printable(c, CITY_MAX)),
      });
    this.fileWarned = refused.join("\n");
    this.forgetUnwatched();
  }

  private forgetUnwatched(): void {
    const watched = new Set(this.watch.cities().map((w) => cityKey(w.city)));
    for (const key of this.known.keys())
      if (!watched.has(key)) {
        this.known.delete(key);
        this.reporter.forget(key);
      }
  }

  /** One round: read every watched city (unless the provider asked us to back off), then report. */
  async round(signal?: AbortSignal): Promise<void> {
    this.rounds++;
    const cities = this.watch.cities();
    if (cities.length === 0 && this.rounds === 1) this.options.log.info("no locations to watch yet: waiting for CPs to register or an operator to add one");
    if (this.backoff.remainingMs() === 0) {
      for (const { city } of cities) {
        if (signal?.aborted) break;
        await this.pacer.turn(signal);
        if (signal?.aborted) break;
        const outcome = await this.readOne(city, signal);
        if (outcome !== "ok" && failsForEveryCity(outcome)) break;
      }
    } else {
      this.options.log.debug("provider calls paused after a 429", { remaining_ms: this.backoff.remainingMs() });
    }
    await this.reporter.flush();
  }

  private async readOne(city: string, signal?: AbortSignal): Promise<"ok" | ReadFailureKind> {
    const entry = this.known.get(cityKey(city)) ?? {};
    this.known.set(cityKey(city), entry);
    try {
      const reading = await this.options.provider.read(city, signal);
      this.backoff.succeed();
      this.recovered(city, entry);
      this.noteReading(city, entry, reading);
      return "ok";
    } catch (err) {
      if (signal?.aborted) return "timeout"; // stopping: not a provider failure worth reporting
      const failure = err instanceof ReadFailure ? err : new ReadFailure("malformed", `unexpected error from the provider: ${String(err)}`);
      this.noteFailure(city, entry, failure);
      return failure.kind;
    }
  }

  private noteReading(city: string, entry: { reading?: TemperatureReading }, reading: TemperatureReading): void {
    const { log, criticalC } = this.options;
    const alert = isFrostAlert(reading.temperatureC, criticalC);
    const before = entry.reading ? isFrostAlert(entry.reading.temperatureC, criticalC) : undefined;
    entry.reading = reading;
    if (before === undefined) log.info("temperature", { city, temperature_c: reading.temperatureC, alert, source: reading.source });
    else if (before !== alert)
      log.warn(alert ? `${city} went below ${criticalC} °C: frost alert` : `${city} is at or above ${criticalC} °C again: alert over`, {
        city,
        temperature_c: reading.temperatureC,
      });
    else log.debug("temperature", { city, temperature_c: reading.temperatureC, alert });
    this.reporter.queueReading(reading);
  }

  /** Logs and audits a failure when it is new (a first failure, or a different one). */
  private noteFailure(city: string, entry: { failure?: Failure }, failure: ReadFailure): void {
    const { log, provider } = this.options;
    const accountWide = failsForEveryCity(failure.kind);
    const previous = accountWide ? this.accountFailure : entry.failure;
    const current: Failure = {
      kind: failure.kind,
      message: failure.message,
      since: previous?.kind === failure.kind ? previous.since : new Date(this.clock.now()),
    };
    if (accountWide) this.accountFailure = current;
    else entry.failure = current;
    if (failure.kind === "rate_limited") {
      const pause = this.backoff.refuse(failure.details.retryAfterMs);
      log.warn("provider rate limit reached: pausing every call", {
        provider: provider.name,
        pause_ms: pause,
        retry_after: failure.details.retryAfterMs !== undefined,
      });
    }
    if (previous?.kind === failure.kind) {
      log.debug("still cannot read the temperature", { city, kind: failure.kind });
      return;
    }
    log.warn("cannot read the temperature: keeping the last known one", {
      city: accountWide ? undefined : city,
      provider: provider.name,
      kind: failure.kind,
      why: failure.message,
      last_known_c: this.known.get(cityKey(city))?.reading?.temperatureC,
    });
    this.reporter.queueEvent({
      kind: failure.kind,
      ...(accountWide ? {} : { city }),
      provider: provider.name,
      message: failure.message.slice(0, 500),
      ...(failure.details.httpStatus ? { http_status: failure.details.httpStatus } : {}),
    });
  }

  /** A good reading ends the city's failure and any account-wide one. */
  private recovered(city: string, entry: { failure?: Failure }): void {
    const { log, provider } = this.options;
    if (this.accountFailure) {
      log.info("the provider answers again", { provider: provider.name, after: this.accountFailure.kind });
      this.reporter.queueEvent({ kind: "recovered", provider: provider.name, message: `the provider answers again after ${this.accountFailure.kind}` });
      this.accountFailure = undefined;
    }
    if (entry.failure) {
      log.info("the temperature can be read again", { city, after: entry.failure.kind });
      this.reporter.queueEvent({ kind: "recovered", city, provider: provider.name, message: `readable again after ${entry.failure.kind}` });
      entry.failure = undefined;
    }
  }

  /** Every watched city with what is known of it. */
  status(): {
    cities: CityStatus[];
    accountFailure?: Failure;
    centralReachable: boolean;
    /** Why the locations could not be refreshed from Central's API (empty: they could). */
    locationsProblem: string;
    intervalMs: number;
    pausedForMs: number;
  } {
    const cities = this.watch.cities().map(({ city, sources }) => {
      const entry = this.known.get(cityKey(city));
      const reading = entry?.reading;
      return {
        city,
        sources,
        ...(reading ? { reading, alert: isFrostAlert(reading.temperatureC, this.options.criticalC) } : {}),
        ...(entry?.failure ? { failure: entry.failure } : {}),
      };
    });
    return {
      cities,
      ...(this.accountFailure ? { accountFailure: this.accountFailure } : {}),
      centralReachable: this.reporter.centralReachable,
      locationsProblem: this.locationsWarned,
      intervalMs: this.intervalMs(),
      pausedForMs: this.backoff.remainingMs(),
    };
  }

  /** Rounds until the signal aborts, re-reading the locations every `reloadMs`. */
  async run(signal: AbortSignal, reloadMs: number): Promise<void> {
    let nextReload = 0;
    while (!signal.aborted) {
      const started = this.clock.now();
      if (started >= nextReload) {
        await this.refreshLocations();
        nextReload = started + reloadMs;
      }
      try {
        await this.round(signal);
      } catch (err) {
        // A bug in one round must not end the office; the next round starts afresh.
        this.options.log.error("weather round failed", { err: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      }
      // A round paused by a 429 still reports what waits; reading resumes once the pause is over.
      await this.clock.sleep(this.intervalMs() - (this.clock.now() - started), signal);
    }
  }
}
