/**
 * The offline provider: temperatures from a local JSON file an operator edits (or sets from the
 * weather menu), `{ "Madrid": 18.5, "Oslo": -4 }`; an entry may also say where the city is,
 * `{ "Madrid": { "temperature_c": 18.5, "latitude": 40.42, "longitude": -3.7 } }`, for the
 * dashboard's map. Used when no OpenWeather key is configured, so demos and tests run without
 * internet. The file is read on every call, so an edit takes effect at the next round; cities
 * match regardless of case.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { cityKey, tidyCity } from "../../../db/city-key.ts";
import type { Coordinates, TemperatureReading } from "../../../domain/temperature-reading.ts";
import { ReadFailure, type TemperatureProvider } from "./provider.ts";

export type OfflineTemperatures = Record<string, number>;

/** One city of the file: its temperature and, when given, where it is. */
export interface OfflineEntry {
  temperatureC: number;
  coordinates?: Coordinates;
}

/** What the file may hold per city: a temperature, or an object with one and the city's place. */
export type OfflineFileValue = number | { temperature_c: number; latitude?: number; longitude?: number };

export class OfflineProvider implements TemperatureProvider {
  readonly name = "offline";
  readonly minMsBetweenCalls = 0;

  constructor(readonly file: string) {}

  async read(city: string): Promise<TemperatureReading> {
    const entries = readOfflineEntries(this.file);
    const entry = Object.entries(entries).find(([name]) => cityKey(name) === cityKey(city));
    if (!entry) throw new ReadFailure("city_not_found", `${city} has no temperature in ${this.file} (add it there or from the weather menu)`);
    const { temperatureC, coordinates } = entry[1];
    return { city, temperatureC, observedAt: statSync(this.file).mtime, source: this.name, ...(coordinates ? { coordinates } : {}) };
  }
}

/** The file's temperatures; a ReadFailure (`malformed`) when it is missing or not as documented. */
export function readOfflineFile(file: string): OfflineTemperatures {
  return Object.fromEntries(Object.entries(readOfflineEntries(file)).map(([city, e]) => [city, e.temperatureC]));
}

const isNumber = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

function entryOf(file: string, city: string, value: unknown): OfflineEntry {
  if (isNumber(value)) return { temperatureC: value };
  const object = typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  if (!object || !isNumber(object.temperature_c))
    throw new ReadFailure(
      "malformed",
      `${file}: the temperature of ${JSON.stringify(city)} must be a number (°C) or {"temperature_c": number, "latitude": number, "longitude": number}, got ${JSON.stringify(value)}`,
    );
  const { latitude, longitude } = object;
  if (latitude === undefined && longitude === undefined) return { temperatureC: object.temperature_c };
  if (!isNumber(latitude) || !isNumber(longitude) || Math.abs(latitude) > 90 || Math.abs(longitude) > 180)
    throw new ReadFailure("malformed", `${file}: ${JSON.stringify(city)} needs both a latitude (-90 to 90) and a longitude (-180 to 180), in degrees`);
  return { temperatureC: object.temperature_c, coordinates: { latitude, longitude } };
}

/** Every city of the file with its temperature and place. */
export function readOfflineEntries(file: string): Record<string, OfflineEntry> {
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
  const out: Record<string, OfflineEntry> = {};
  for (const [city, value] of Object.entries(parsed)) out[city] = entryOf(file, city, value);
  return out;
}

/**
 * Sets (or adds) a city's temperature in the file, keeping the spelling and the place already
 * there. Written to a temporary file and renamed, so a reader never sees half a file.
 */
export function setOfflineTemperature(file: string, city: string, temperatureC: number): void {
  if (!Number.isFinite(temperatureC)) throw new Error("the temperature must be a number");
  const entries = existsSync(file) ? readOfflineEntries(file) : {};
  const existing = Object.keys(entries).find((name) => cityKey(name) === cityKey(city));
  const name = existing ?? tidyCity(city);
  entries[name] = { ...entries[name], temperatureC };
  writeOfflineFile(
    file,
    Object.fromEntries(
      Object.entries(entries).map(([c, e]) => [c, e.coordinates ? { temperature_c: e.temperatureC, ...e.coordinates } : e.temperatureC] as const),
    ),
  );
}

export function writeOfflineFile(file: string, temperatures: Record<string, OfflineFileValue>): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(temperatures, null, 2)}\n`);
  renameSync(tmp, file);
}
