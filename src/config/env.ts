/**
 * The one place that reads the process environment. Roles get a parsed, validated config
 * object from `loadConfig`; nothing else looks at `process.env`.
 *
 * Precedence: command-line flags > environment > `.env` file in the working directory.
 */
import { existsSync, readFileSync } from "node:fs";
import * as v from "valibot";
import { postgresTarget } from "../db/url.ts";
import { EXIT, KnownError, type KnownErrorOptions } from "../lib/errors.ts";

/** A setting is missing or wrong; its message names the setting (and its flag, where it has one). */
export class ConfigError extends KnownError {
  override name = "ConfigError";
  constructor(message: string, options: Omit<KnownErrorOptions, "exitCode"> = {}) {
    super(message, { ...options, exitCode: EXIT.config });
  }
}

/** Parses a dotenv file: KEY=value lines, `#` comments, optional single or double quotes. */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2] ?? "";
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2] ?? "";
    else value = value.replace(/\s+#.*$/, "");
    out[match[1]!] = value;
  }
  return out;
}

let cachedEnv: Record<string, string | undefined> | undefined;

/**
 * The settings file: `.env` in the working directory when there is one, or the file named by
 * EVNET_ENV_FILE, which must then exist (a mistyped name must not silently fall back to defaults).
 */
function readEnvFile(): Record<string, string> {
  const named = process.env.EVNET_ENV_FILE;
  const file = named || ".env";
  if (!named && !existsSync(file)) return {};
  try {
    return parseDotenv(readFileSync(file, "utf8"));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === "ENOENT" ? "there is no such file" : (err as Error).message;
    throw new ConfigError(`EVNET_ENV_FILE: cannot read the settings file ${file}: ${why}`, {
      hint: "fix the path, or unset EVNET_ENV_FILE to read .env from the working directory",
    });
  }
}

/** The environment merged over `.env` (read once). Empty strings count as unset. */
export function environment(): Record<string, string | undefined> {
  if (cachedEnv) return cachedEnv;
  const fromFile = readEnvFile();
  const merged: Record<string, string | undefined> = { ...fromFile };
  for (const [k, val] of Object.entries(process.env)) if (val !== undefined) merged[k] = val;
  for (const [k, val] of Object.entries(merged)) if (val === "") merged[k] = undefined;
  cachedEnv = merged;
  return merged;
}

/** For tests: forget the cached environment so a changed `process.env` is read again. */
export function resetEnvironmentCache(): void {
  cachedEnv = undefined;
}

/** What the CLI's settings table (src/config/settings.ts) tells about a variable, for messages. */
interface KnownVariable {
  /** Its command-line flag, e.g. `--data-dir`. */
  flag?: string;
  /** Never echoed in a message. */
  secret?: boolean;
}

const knownVariables = new Map<string, KnownVariable>();

export function registerVariable(name: string, known: KnownVariable): void {
  knownVariables.set(name, known);
}

/** A variable as messages name it: `API_PORT (--port)` when it has a flag. */
export function settingLabel(name: string): string {
  const flag = knownVariables.get(name)?.flag;
  return flag ? `${name} (${flag})` : name;
}

/** A URL as shown in an error: its password replaced (a DATABASE_URL's, for one). */
function withoutPassword(given: unknown): unknown {
  if (typeof given !== "string" || !given.includes("@")) return given;
  try {
    const url = new URL(given);
    if (!url.password) return given;
    url.password = "***";
    return url.toString();
  } catch {
    return given;
  }
}

/**
 * Builds a role's config: `schema` is a valibot object schema whose keys are environment
 * variable names; `flags` maps the same names to values given on the command line.
 * A wrong value throws a ConfigError naming the variable (and its flag) and what was expected;
 * the value given is shown, except a secret's, and a URL's password.
 */
export function loadConfig<S extends v.ObjectSchema<v.ObjectEntries, v.ErrorMessage<v.ObjectIssue> | undefined>>(
  schema: S,
  flags: Partial<Record<keyof S["entries"] & string, unknown>> = {},
  env: Record<string, string | undefined> = environment(),
): v.InferOutput<S> {
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(schema.entries)) {
    const flag = (flags as Record<string, unknown>)[key];
    input[key] = flag !== undefined && flag !== "" ? String(flag) : env[key];
  }
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  const lines = result.issues.map((issue) => {
    const key = issue.path?.[0] ? String(issue.path[0].key) : undefined;
    const given = key === undefined ? issue.input : input[key];
    const got = given === undefined ? "nothing" : key && knownVariables.get(key)?.secret ? "a value, not shown" : JSON.stringify(withoutPassword(given));
    return `  ${key ? settingLabel(key) : "config"}: ${issue.message} (got ${got})`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
}

// Reusable field schemas. Every value arrives as a string (or undefined) from flags/env.

export const port = (fallback: number) =>
  v.pipe(
    v.optional(v.string(), String(fallback)),
    v.regex(/^\d+$/, "expected a TCP port number (0-65535)"),
    v.transform(Number),
    v.maxValue(65535, "expected a TCP port number (0-65535)"),
  );

export const positiveNumber = (fallback: number, what = "a positive number") =>
  v.pipe(
    v.optional(v.string(), String(fallback)),
    v.transform(Number),
    v.number(`expected ${what}`),
    v.check((n) => Number.isFinite(n) && n > 0, `expected ${what}`),
  );

export const number = (fallback: number, what = "a number") =>
  v.pipe(
    v.optional(v.string(), String(fallback)),
    v.transform(Number),
    v.check((n) => Number.isFinite(n), `expected ${what}`),
  );

export const integer = (fallback: number, min = 0) =>
  v.pipe(
    v.optional(v.string(), String(fallback)),
    v.regex(/^-?\d+$/, `expected a whole number >= ${min}`),
    v.transform(Number),
    v.minValue(min, `expected a whole number >= ${min}`),
  );

export const bool = (fallback: boolean) =>
  v.pipe(
    v.optional(v.string(), String(fallback)),
    v.picklist(["true", "false", "1", "0", "yes", "no"], "expected true or false"),
    v.transform((s) => s === "true" || s === "1" || s === "yes"),
  );

export const optionalString = () => v.optional(v.pipe(v.string(), v.minLength(1)));

/** Whether postgresTarget (src/db/url.ts) takes a DATABASE_URL's `host` parameter: none, or a socket's folder. */
function takesHostParameter(url: string): boolean {
  try {
    postgresTarget(url);
    return true;
  } catch {
    return false;
  }
}

export const postgresUrl = () =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^postgres(ql)?:\/\/.+/, "expected a postgres:// or postgresql:// URL"),
      v.check(
        (url) => takesHostParameter(url),
        "its host parameter must be the folder of PostgreSQL's socket, like ?host=/var/run/postgresql (a server's name goes in the URL itself)",
      ),
    ),
  );

/** Comma-separated host:port list, as Kafka clients take it. */
export const brokerList = () =>
  v.optional(
    v.pipe(
      v.string(),
      v.transform((s) =>
        s
          .split(",")
          .map((x) => x.trim())
          .filter(Boolean),
      ),
      v.check((list) => list.length > 0 && list.every((b) => /^[^\s:]+:\d+$/.test(b)), "expected host:port[,host:port...]"),
    ),
  );

/** A token shared between roles; long enough to resist guessing. */
export const secretToken = () => v.pipe(v.string("is required (set it in the environment or .env)"), v.minLength(16, "expected at least 16 characters"));

export const hostPort = (fallback: string) => v.pipe(v.optional(v.string(), fallback), v.regex(/^[^\s:]+:\d+$/, "expected host:port"));

export const url = () => v.pipe(v.string(), v.url("expected a URL such as https://127.0.0.1:8000"));
