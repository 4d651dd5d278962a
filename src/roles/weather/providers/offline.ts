/**
 * The offline provider: temperatures from a local JSON file an operator edits (or sets from the
 * weather menu), `{ "Madrid": 18.5, "Oslo": -4 }`. Used when no OpenWeather key is configured,
 * so demos and tests run without internet. The file is read on every call, so an edit takes
 * effect at the next round; cities match regardless of case.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { TemperatureReading } from "../../../domain/temperature-reading.ts";
import { cityKey, tidyCity } from "../../../domain/weather-policy.ts";
import { ReadFailure, type TemperatureProvider } from "./provider.ts";

export type OfflineTemperatures = Record<string, number>;

export class OfflineProvider implements TemperatureProvider {
  readonly name = "offline";
  readonly minMsBetweenCalls = 0;

  constructor(readonly file: string) {}

  async read(city: string): Promise<TemperatureReading> {
    const temperatures = readOfflineFile(this.file);
    const entry = Object.entries(temperatures).find(([name]) => cityKey(name) === cityKey(city));
    if (!entry) throw new ReadFailure("city_not_found", `${city} has no temperature in ${this.file} (add it there or from the weather menu)`);
    return { city, temperatureC: entry[1], observedAt: statSync(this.file).mtime, source: this.name };
  }
}

/** The file's temperatures; a ReadFailure (`malformed`) when it is missing or not `{city: number}`. */
export function readOfflineFile(file: string): OfflineTemperatures {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new ReadFailure(
      "malformed",
      code === "ENOENT" ? `the offline temperatures file ${file} does not exist` : `cannot read ${file}: ${(err as Error).message}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ReadFailure("malformed", `${file} is not valid JSON (expected {"City": temperature, ...})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new ReadFailure("malformed", `${file} must be a JSON object {"City": temperature, ...}`);
  const out: OfflineTemperatures = {};
  for (const [city, value] of Object.entries(parsed)) {
    if (typeof value !== "number" || !Number.isFinite(value))
      throw new ReadFailure("malformed", `${file}: the temperature of ${JSON.stringify(city)} must be a number (°C), got ${JSON.stringify(value)}`);
    out[city] = value;
  }
  return out;
}

/**
 * Sets (or adds) a city's temperature in the file, keeping the spelling already there. Written
 * to a temporary file and renamed, so a reader never sees half a file.
 */
export function setOfflineTemperature(file: string, city: string, temperatureC: number): void {
  if (!Number.isFinite(temperatureC)) throw new Error("the temperature must be a number");
  const temperatures = existsSync(file) ? readOfflineFile(file) : {};
  const existing = Object.keys(temperatures).find((name) => cityKey(name) === cityKey(city));
  temperatures[existing ?? tidyCity(city)] = temperatureC;
  writeOfflineFile(file, temperatures);
}

export function writeOfflineFile(file: string, temperatures: OfflineTemperatures): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(temperatures, null, 2)}\n`);
  renameSync(tmp, file);
}
