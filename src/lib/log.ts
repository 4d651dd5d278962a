/**
 * Line-oriented logging to stdout/stderr: `time level [role] message key=value...`.
 * `evnet up` prefixes each role's lines with its name through `child`.
 */
import { environment } from "../config/env.ts";

export type Level = "debug" | "info" | "warn" | "error";
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(role: string): Logger;
}

// Read through the config module so EVNET_LOG_LEVEL in .env counts too (the compiled binary does
// not load .env into process.env by itself).
let threshold: Level = (environment().EVNET_LOG_LEVEL as Level | undefined) ?? "info";
export function setLogLevel(level: Level): void {
  threshold = level;
}

/** Where log lines go; tests and the interactive menus can redirect them. */
export let sink: (line: string, level: Level) => void = (line, level) => {
  if (level === "error" || level === "warn") process.stderr.write(`${line}\n`);
  else process.stdout.write(`${line}\n`);
};
export function setLogSink(next: (line: string, level: Level) => void): void {
  sink = next;
}

function format(fields?: Record<string, unknown>): string {
  if (!fields) return "";
  return Object.entries(fields)
    .filter(([, val]) => val !== undefined)
    .map(([k, val]) => {
      const s = val instanceof Error ? val.message : typeof val === "string" ? val : JSON.stringify(val);
      return ` ${k}=${/\s/.test(s) ? JSON.stringify(s) : s}`;
    })
    .join("");
}

export function createLogger(role: string): Logger {
  const write = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (order[level] < order[threshold]) return;
    sink(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${role}] ${msg}${format(fields)}`, level);
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (sub) => createLogger(`${role}/${sub}`),
  };
}
