/**
 * Line-oriented logging to stdout/stderr: `time level [role] message key=value...`, or with
 * `EVNET_LOG_FORMAT=json` one JSON object per line (`{"time","level","role","msg",...fields}`)
 * for log collectors. `evnet up` prefixes each role's lines with its name through `child`.
 */
import { environment } from "../config/env.ts";
import { escapeControls, isCleanText } from "../domain/ids.ts";

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

export type LogFormat = "text" | "json";
function formatFromEnvironment(): LogFormat {
  const asked = environment().EVNET_LOG_FORMAT?.trim().toLowerCase();
  if (asked === undefined || asked === "" || asked === "text") return "text";
  if (asked === "json") return "json";
  // Said once, on stderr, and in the format asked for being unknown: plain text.
  process.stderr.write(`EVNET_LOG_FORMAT must be text or json (got ${JSON.stringify(asked)}); logging as text\n`);
  return "text";
}
let logFormat: LogFormat = formatFromEnvironment();
export function setLogFormat(next: LogFormat): void {
  logFormat = next;
}

/** Where log lines go; tests and the interactive menus can redirect them. */
export let sink: (line: string, level: Level) => void = (line, level) => {
  if (level === "error" || level === "warn") process.stderr.write(`${line}\n`);
  else process.stdout.write(`${line}\n`);
};
export function setLogSink(next: (line: string, level: Level) => void): void {
  sink = next;
}

/**
 * An error in words: its message, and the causes it wraps (a database client's "Failed query:
 * …" says which statement; its cause says why PostgreSQL refused it).
 */
export function errorText(err: Error): string {
  let text = err.message;
  let cause = err.cause;
  for (let depth = 0; depth < 3 && cause !== undefined && cause !== null; depth++) {
    const why = cause instanceof Error ? cause.message : typeof cause === "string" ? cause : undefined;
    if (why && !text.includes(why)) text += `; cause: ${why}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return text;
}

function format(fields?: Record<string, unknown>): string {
  if (!fields) return "";
  return Object.entries(fields)
    .filter(([, val]) => val !== undefined)
    .map(([k, val]) => {
      const s = val instanceof Error ? errorText(val) : typeof val === "string" ? val : JSON.stringify(val);
      // Quoted when it has spaces or anything invisible (a NUL from outside, say), which is escaped.
      return ` ${k}=${/\s/.test(s) || !isCleanText(s) ? escapeControls(JSON.stringify(s)) : s}`;
    })
    .join("");
}

/** A field's value as JSON can carry it: errors in words (`errorText`), bigints as text. */
function jsonValue(value: unknown): unknown {
  if (value instanceof Error) return errorText(value);
  if (typeof value === "bigint") return value.toString();
  return value;
}

function jsonLine(time: string, level: Level, role: string, msg: string, fields?: Record<string, unknown>): string {
  const entry: Record<string, unknown> = { time, level, role, msg };
  for (const [k, val] of Object.entries(fields ?? {})) {
    // The fixed keys stay what they are; a field of the same name is kept under another key.
    if (val !== undefined) entry[k in entry ? `field_${k}` : k] = jsonValue(val);
  }
  try {
    return JSON.stringify(entry);
  } catch {
    return JSON.stringify({ time, level, role, msg, fields: "(not serialisable)" });
  }
}

export function createLogger(role: string): Logger {
  const write = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (order[level] < order[threshold]) return;
    const time = new Date().toISOString();
    sink(
      logFormat === "json"
        ? jsonLine(time, level, role, msg, fields)
        : `${time} ${level.toUpperCase().padEnd(5)} [${role}] ${escapeControls(msg)}${format(fields)}`,
      level,
    );
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (sub) => createLogger(`${role}/${sub}`),
  };
}
