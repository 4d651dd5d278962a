/**
 * The cities the office watches: the locations of registered CPs and the operator's locations
 * (both from Central's API), the lines of WEATHER_LOCATIONS_FILE, and cities added from the
 * menu. One entry per city, whatever the case or spacing each source writes it in.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cityKey, isCity, tidyCity } from "../../db/city-key.ts";

export type LocationSource = "cp" | "operator" | "file" | "menu";

export interface WatchedCity {
  city: string;
  sources: LocationSource[];
}

const ORDER: LocationSource[] = ["cp", "operator", "file", "menu"];

export class WatchList {
  private readonly bySource = new Map<LocationSource, string[]>(ORDER.map((s) => [s, []]));

  /**
   * Replaces one source's cities (blank names are ignored). Returns the names that cannot be a
   * city (too long, or with a control character), which are left out.
   */
  set(source: LocationSource, cities: string[]): string[] {
    const named = cities.map(tidyCity).filter(Boolean);
    this.bySource.set(source, named.filter(isCity));
    return named.filter((c) => !isCity(c));
  }

  get(source: LocationSource): string[] {
    return [...(this.bySource.get(source) ?? [])];
  }

  /** Adds a city from the menu; false when it is watched already (by any source). */
  addFromMenu(city: string): boolean {
    if (this.has(city)) return false;
    this.set("menu", [...this.get("menu"), city]);
    return true;
  }

  /** Removes a menu city; false when there was none by that name. */
  removeFromMenu(city: string): boolean {
    const before = this.get("menu");
    const after = before.filter((c) => cityKey(c) !== cityKey(city));
    this.set("menu", after);
    return after.length !== before.length;
  }

  has(city: string): boolean {
    return this.cities().some((w) => cityKey(w.city) === cityKey(city));
  }

  /** Every watched city once, in source order (CPs first), with where it comes from. */
  cities(): WatchedCity[] {
    const byKey = new Map<string, WatchedCity>();
    for (const source of ORDER)
      for (const city of this.bySource.get(source) ?? []) {
        const key = cityKey(city);
        const seen = byKey.get(key);
        if (!seen) byKey.set(key, { city, sources: [source] });
        else if (!seen.sources.includes(source)) seen.sources.push(source);
      }
    return [...byKey.values()];
  }
}

/** A locations file: one city per line; blank lines and `#` comments are ignored. */
export function parseLocationsFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, "").trim())
    .filter(Boolean);
}

export function readLocationsFile(file: string): string[] {
  return existsSync(file) ? parseLocationsFile(readFileSync(file, "utf8")) : [];
}

/** Appends a city to the file unless it is there already (in any case). */
export function addToLocationsFile(file: string, city: string): boolean {
  const current = readLocationsFile(file);
  if (current.some((c) => cityKey(c) === cityKey(city))) return false;
  const text = existsSync(file) ? readFileSync(file, "utf8") : "# Cities the weather office watches, one per line.\n";
  writeFileSync(file, `${text}${text.endsWith("\n") || !text ? "" : "\n"}${tidyCity(city)}\n`);
  return true;
}

/** Removes a city's lines from the file, keeping comments and the other lines as they were. */
export function removeFromLocationsFile(file: string, city: string): boolean {
  if (!existsSync(file)) return false;
  const lines = readFileSync(file, "utf8").split(/\r?\n/);
  const kept = lines.filter((line) => cityKey(line.replace(/#.*$/, "")) !== cityKey(city) || !line.replace(/#.*$/, "").trim());
  if (kept.length === lines.length) return false;
  writeFileSync(file, kept.join("\n"));
  return true;
}
