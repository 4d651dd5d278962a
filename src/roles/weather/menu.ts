/**
 * The weather office's interactive menu (only when stdin is a terminal): list the watched cities
 * with their last temperature, add or remove a location, set a temperature in the offline file,
 * show the office's status and its recent log. While the menu is open, log lines are kept in
 * memory (shown on request) so they do not tear the prompts apart.
 */
import * as p from "@clack/prompts";
import { isCity } from "../../db/city-key.ts";
import { sink as currentSink, type Level, setLogSink } from "../../lib/log.ts";
import type { WeatherOffice } from "./office.ts";
import { OfflineProvider, readOfflineFile, setOfflineTemperature } from "./providers/offline.ts";
import { addToLocationsFile, removeFromLocationsFile } from "./watch-list.ts";

export interface MenuOptions {
  office: WeatherOffice;
  locationsFile?: string;
  offlineFile: string;
  signal: AbortSignal;
}

const RECENT_LINES = 200;

/** Runs the menu until the operator quits (resolves) or the signal aborts. */
export async function runMenu(options: MenuOptions): Promise<void> {
  const recent: { line: string; level: Level }[] = [];
  let unseenWarnings = 0;
  const previousSink = currentSink;
  setLogSink((line, level) => {
    recent.push({ line, level });
    if (recent.length > RECENT_LINES) recent.shift();
    if (level === "warn" || level === "error") unseenWarnings++;
  });
  try {
    p.intro("evnet weather: Weather Control Office");
    while (!options.signal.aborted) {
      const choice = await p.select({
        message: unseenWarnings ? `What now? (${unseenWarnings} new warnings in the log)` : "What now?",
        signal: options.signal,
        options: [
          { value: "list", label: "List locations and temperatures" },
          { value: "add", label: "Add a location" },
          { value: "remove", label: "Remove a location" },
          {
            value: "offline",
            label: "Set a temperature in the offline file",
            hint: options.office.provider.name === "offline" ? undefined : "not in use: OpenWeather is",
          },
          { value: "status", label: "Show status" },
          { value: "log", label: "Show recent log" },
          { value: "quit", label: "Quit (stop the weather office)" },
        ],
      });
      if (p.isCancel(choice) || choice === "quit") break;
      if (choice === "log") {
        p.note(recent.map((r) => r.line).join("\n") || "(nothing logged yet)", "Recent log");
        unseenWarnings = 0;
      } else await actions[choice](options);
    }
    p.outro("weather office stopping");
  } finally {
    setLogSink(previousSink);
  }
}

const actions: Record<"list" | "add" | "remove" | "offline" | "status", (o: MenuOptions) => Promise<void>> = {
  async list({ office }) {
    const { cities } = office.status();
    if (cities.length === 0) return p.note("No locations yet: CPs register theirs, or add one.", "Locations");
    const lines = cities.map((c) => {
      const temp = c.reading ? `${c.reading.temperatureC.toFixed(1)} °C` : "—";
      const state = c.alert ? "FROST ALERT" : c.reading ? "ok" : "no reading yet";
      const failure = c.failure ? `  (last read failed: ${c.failure.kind})` : "";
      return `${c.city.padEnd(24)} ${temp.padStart(9)}  ${state.padEnd(14)} [${c.sources.join(", ")}]${failure}`;
    });
    p.note(lines.join("\n"), `Locations (alert below ${office.criticalC} °C)`);
  },

  async add({ office, locationsFile, signal }) {
    const city = await askCity("City to watch", signal);
    if (city === undefined) return;
    const added = locationsFile ? addToLocationsFile(locationsFile, city) : office.watch.addFromMenu(city);
    if (locationsFile) await office.refreshLocations();
    p.log.info(added ? `Watching ${city}${locationsFile ? ` (saved in ${locationsFile})` : " (until the office stops)"}.` : `${city} is watched already.`);
  },

  async remove({ office, locationsFile, signal }) {
    const removable = office.watch.cities().filter((c) => c.sources.includes("menu") || c.sources.includes("file"));
    if (removable.length === 0)
      return p.note(
        "Only locations added here or in the locations file can be removed here. CP locations follow the registered CPs; operator locations are removed through the API or dashboard.",
        "Nothing to remove",
      );
    const city = await p.select({
      message: "Stop watching",
      signal,
      options: removable.map((c) => ({ value: c.city, label: c.city, hint: c.sources.join(", ") })),
    });
    if (p.isCancel(city)) return;
    office.watch.removeFromMenu(city);
    if (locationsFile) removeFromLocationsFile(locationsFile, city);
    await office.refreshLocations();
    const still = office.watch.cities().find((c) => c.city === city);
    p.log.info(still ? `${city} is still watched because of: ${still.sources.join(", ")}.` : `No longer watching ${city}.`);
  },

  async offline({ office, offlineFile, signal }) {
    const city = await askCity("City", signal);
    if (city === undefined) return;
    const answer = await p.text({
      message: `Temperature of ${city} in °C`,
      signal,
      validate: (s) => (s && Number.isFinite(Number(s.replace(",", "."))) ? undefined : "a number, e.g. -3.5"),
    });
    if (p.isCancel(answer)) return;
    try {
      setOfflineTemperature(offlineFile, city, Number(answer.replace(",", ".")));
      p.log.success(
        `${city}: ${answer} °C written to ${offlineFile}${office.provider instanceof OfflineProvider ? "; read at the next round" : " (the office uses OpenWeather, so this has no effect now)"}.`,
      );
    } catch (err) {
      p.log.error(`Could not write ${offlineFile}: ${err instanceof Error ? err.message : String(err)}`);
    }
  },

  async status({ office, offlineFile }) {
    const s = office.status();
    const rows: [string, string][] = [
      ["provider", `${office.provider.name}${office.provider instanceof OfflineProvider ? ` (${offlineFile}, ${safeCount(offlineFile)} cities)` : ""}`],
      ["round every", `${(s.intervalMs / 1000).toFixed(1)} s for ${s.cities.length} cities`],
      ["critical temperature", `${office.criticalC} °C`],
      [
        "cities in alert",
        s.cities
          .filter((c) => c.alert)
          .map((c) => c.city)
          .join(", ") || "none",
      ],
      [
        "reports to Central",
        `${s.centralReachable ? "going through" : "PAUSED: API unreachable"}; waiting: ${office.reporter.waiting.readings} readings, ${office.reporter.waiting.events} failure reports`,
      ],
      ["locations from Central", s.locationsProblem ? `FAILING (${s.locationsProblem})` : "up to date"],
      ["provider calls", s.pausedForMs > 0 ? `paused ${Math.ceil(s.pausedForMs / 1000)} s more (rate limit)` : "running"],
      ["provider problem", s.accountFailure ? `${s.accountFailure.kind}: ${s.accountFailure.message}` : "none"],
    ];
    p.note(rows.map(([label, value]) => `${label.padEnd(24)}${value}`).join("\n"), "Status");
  },
};

async function askCity(message: string, signal: AbortSignal): Promise<string | undefined> {
  const city = await p.text({ message, signal, validate: (s) => (isCity(s ?? "") ? undefined : "1 to 100 characters, no control characters") });
  return p.isCancel(city) ? undefined : city.trim();
}

function safeCount(file: string): number | string {
  try {
    return Object.keys(readOfflineFile(file)).length;
  } catch {
    return "unreadable";
  }
}
