/**
 * Delivers what the office learns to Central's API: each city's latest temperature and the
 * provider failures to audit. When the API cannot be reached the reports wait (the latest per
 * city, and failures up to a bound) and go out when it is back; on reconnection the current
 * state of every city is sent again, so Central ends up with the last state even if it missed
 * some of it.
 */

import { cityKey } from "../../db/city-key.ts";
import type { TemperatureReading } from "../../domain/temperature-reading.ts";
import type { CityTemperatureReport, WeatherEventReport, WeatherHeartbeat } from "../../http/weather-api.ts";
import type { Logger } from "../../lib/log.ts";
import type { CityWeatherStored } from "../api/shapes.ts";
import { CentralRejected, CentralUnreachable } from "./central-client.ts";

/** What the office needs from Central's API (CentralClient implements it). */
export interface CentralPort {
  readonly baseUrl: string;
  chargingPointLocations(): Promise<string[]>;
  operatorLocations(): Promise<string[]>;
  reportTemperature(report: CityTemperatureReport): Promise<Pick<CityWeatherStored, "alert" | "transition">>;
  reportEvent(event: WeatherEventReport): Promise<void>;
  heartbeat(beat: WeatherHeartbeat): Promise<void>;
}

/** Failures waiting for the API beyond this are dropped, oldest first (and counted). */
const MAX_WAITING_EVENTS = 500;

export class Reporter {
  private readonly latest = new Map<string, CityTemperatureReport>();
  private readonly pending = new Map<string, CityTemperatureReport>();
  private readonly events: WeatherEventReport[] = [];
  private droppedEvents = 0;
  private reachable = true;
  private lastRejection = "";

  constructor(
    private readonly central: CentralPort,
    private readonly log: Logger,
    private readonly criticalC: number,
  ) {}

  get centralReachable(): boolean {
    return this.reachable;
  }

  /** Reports waiting for the API (temperatures and failures). */
  get waiting(): { readings: number; events: number } {
    return { readings: this.pending.size, events: this.events.length };
  }

  queueReading(reading: TemperatureReading): void {
    const report: CityTemperatureReport = {
      city: reading.city,
      temperature_c: reading.temperatureC,
      critical_c: this.criticalC,
      observed_at: reading.observedAt.toISOString(),
      source: reading.source,
      ...(reading.coordinates ? { latitude: reading.coordinates.latitude, longitude: reading.coordinates.longitude } : {}),
    };
    this.latest.set(cityKey(reading.city), report);
    this.pending.set(cityKey(reading.city), report);
  }

  queueEvent(event: WeatherEventReport): void {
    this.events.push({ ...event, at: event.at ?? new Date().toISOString() });
    while (this.events.length > MAX_WAITING_EVENTS) {
      this.events.shift();
      this.droppedEvents++;
    }
  }

  /** A city no longer watched: nothing more is sent for it. */
  forget(city: string): void {
    this.latest.delete(cityKey(city));
    this.pending.delete(cityKey(city));
  }

  /** Sends what waits, temperatures first; stops at the first sign the API is unreachable. */
  async flush(): Promise<void> {
    for (const [key, report] of this.pending) {
      if (this.pending.get(key) !== report) continue; // replaced by a newer reading meanwhile
      const sent = await this.send(`report ${report.city}`, async () => {
        const answer = await this.central.reportTemperature(report);
        if (answer.transition === "alert_started")
          this.log.warn("Central put the city under frost alert", { city: report.city, temperature_c: report.temperature_c });
        if (answer.transition === "alert_cancelled")
          this.log.info("Central lifted the frost alert", { city: report.city, temperature_c: report.temperature_c });
      });
      if (sent === "unreachable") return;
      if (this.pending.get(key) === report) this.pending.delete(key);
    }
    if (this.droppedEvents > 0) {
      this.log.warn("some failure reports could not be kept while Central's API was unreachable", { dropped: this.droppedEvents, kept: this.events.length });
      this.droppedEvents = 0;
    }
    while (this.events.length > 0) {
      const event = this.events[0]!;
      const sent = await this.send(`audit ${event.kind}`, () => this.central.reportEvent(event));
      if (sent === "unreachable") return;
      this.events.shift();
    }
  }

  /**
   * One request: "sent", "rejected" (a 4xx: logged, not retried) or "unreachable" (kept for
   * later). The first success after an outage queues every city's state again.
   */
  private async send(what: string, request: () => Promise<void>): Promise<"sent" | "rejected" | "unreachable"> {
    try {
      await request();
    } catch (err) {
      if (err instanceof CentralUnreachable) {
        if (this.reachable) this.log.warn("Central's API is unreachable: reports paused until it is back", { api: this.central.baseUrl, why: err.message });
        this.reachable = false;
        return "unreachable";
      }
      const message = err instanceof CentralRejected ? err.message : `unexpected: ${String(err)}`;
      if (message !== this.lastRejection) this.log.error(`Central's API refused to ${what}`, { why: message });
      this.lastRejection = message;
      return "rejected";
    }
    if (!this.reachable) {
      this.reachable = true;
      this.log.info("Central's API is reachable again: reports resumed, resending every city's state", { api: this.central.baseUrl });
      for (const [key, report] of this.latest) this.pending.set(key, report);
    }
    return "sent";
  }
}
