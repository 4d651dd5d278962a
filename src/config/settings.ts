/**
 * The settings table. Each setting a role reads is declared once, keyed by its environment
 * variable, with its type (a valibot schema over the text given), its command-line flag, its
 * help and its default (the schema's own). Everything else derives from the tables: a role's
 * config schema (`schemaOf`), the commands' options, their `--help` and the flag → variable
 * mapping (src/cli/command.ts), and `.env.example` (scripts/env-example.ts).
 *
 * Old names of renamed settings (`renamedFrom`) keep working with a warning, so scripts and
 * service files written for an earlier version do not break on upgrade.
 */
import * as v from "valibot";
import { environment, loadConfig, registerVariable } from "./env.ts";

// biome-ignore lint/suspicious/noExplicitAny: a setting's schema takes text (or nothing) and returns any type
export type SettingSchema = v.GenericSchema<any, unknown>;

export interface Setting<S extends SettingSchema = SettingSchema> {
  /** The flag with its value's placeholder, `--data-dir <dir>`; none: environment only. */
  flag?: string;
  /** One line, for `--help` and `.env.example`. */
  help: string;
  schema: S;
  /** Says the default where the schema cannot (computed when the role starts). */
  defaultText?: string;
  /** A value for `.env.example`'s commented-out line, where there is no default. */
  example?: string;
  /**
   * A secret the role needs: `value` (a token, a key, a password: never echoed in a message, and
   * from the environment or .env; the few that have a flag warn when it is used, as a command
   * line is visible to every user of the machine) or `file` (a file holding a private key).
   * `--help` lists them.
   */
  secret?: "value" | "file";
  /** The names it had before, still read (with a warning). */
  renamedFrom?: { flag?: string; variable?: string };
}

export type Settings = Record<string, Setting>;

/** Declares a group of settings (or a role's table composed of groups). */
export function defineSettings<const T extends Settings>(settings: T): T {
  for (const [name, setting] of Object.entries(settings))
    registerVariable(name, { flag: setting.flag && flagName(setting.flag), secret: setting.secret === "value" });
  return settings;
}

/** `--data-dir` of `--data-dir <dir>`. */
export function flagName(flag: string): string {
  return flag.split(/[\s,]/)[0]!;
}

/** The key cac gives a flag's value: `--data-dir` → `dataDir`, `--no-menu` → `menu`. */
export function optionKey(flag: string): string {
  return flagName(flag)
    .replace(/^--(no-)?/, "")
    .replace(/([a-z])-([a-z])/g, (_, a: string, b: string) => a + b.toUpperCase());
}

/** Whether the flag takes a value (`--port <port>`) or is a switch (`--json`). */
export function takesValue(flag: string): boolean {
  return /[<[]/.test(flag);
}

export function isRequired(setting: Setting): boolean {
  return !v.safeParse(setting.schema, undefined).success;
}

/** The default as text, for help and `.env.example`; undefined when there is none. */
export function defaultOf(setting: Setting): string | undefined {
  if (setting.defaultText) return setting.defaultText;
  const value = v.getDefault(setting.schema as v.OptionalSchema<SettingSchema, string>);
  return value === undefined || value === "" ? undefined : String(value);
}

type EntriesOf<T extends Settings> = { [K in keyof T]: T[K]["schema"] };
export type ConfigOf<T extends Settings> = v.InferOutput<v.ObjectSchema<EntriesOf<T>, undefined>>;
/** Values given on the command line, by variable name. */
export type FlagValues<T extends Settings> = Partial<Record<keyof T & string, unknown>>;

/** The valibot object schema of a table: what `loadConfig` parses. */
export function schemaOf<T extends Settings>(settings: T): v.ObjectSchema<EntriesOf<T>, undefined> {
  const entries = Object.fromEntries(Object.entries(settings).map(([name, setting]) => [name, setting.schema]));
  return v.object(entries) as unknown as v.ObjectSchema<EntriesOf<T>, undefined>;
}

const warned = new Set<string>();
function warnOnce(text: string): void {
  if (warned.has(text)) return;
  warned.add(text);
  process.stderr.write(`evnet: warning: ${text}\n`);
}

/** The environment with renamed variables read under their new names (warning once for each). */
export function withRenamedVariables(settings: Settings, env: Record<string, string | undefined>, warn = warnOnce): Record<string, string | undefined> {
  const out = { ...env };
  for (const [name, setting] of Object.entries(settings)) {
    const old = setting.renamedFrom?.variable;
    if (!old || env[old] === undefined) continue;
    warn(`${old} is now called ${name}; the old name still works in this version but will go`);
    out[name] ??= env[old];
  }
  return out;
}

/** Parses a role's settings from flags, the environment and .env (in that order of precedence). */
export function loadSettings<T extends Settings>(settings: T, flags: FlagValues<T> = {}, env = environment()): ConfigOf<T> {
  return loadConfig(schemaOf(settings), flags, withRenamedVariables(settings, env));
}
