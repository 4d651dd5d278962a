/**
 * How a subcommand is declared: its settings table (options that are also environment
 * variables, src/config/settings.ts), its switches (options that only steer this run: --json,
 * --list, --no-menu), its examples. The cac options, the help and the mapping of flags to
 * variables all come from that one declaration; the action gets the values already mapped.
 */
import type { CAC, Command } from "cac";
import { environment } from "../config/env.ts";
import { type FlagValues, flagName, optionKey, type Settings, takesValue } from "../config/settings.ts";

/** An option that steers this run only, with no environment variable. */
export interface Switch {
  /** `--json`, `--no-menu`, or `--file <path>` for one that takes a value. */
  flag: string;
  help: string;
  /** The value when the option is not given (options that take a value only). */
  default?: string;
}

export type Switches = Record<string, Switch>;

/** Every role with a menu offers it on a terminal, unless told not to. */
export const NO_MENU = { flag: "--no-menu", help: "no interactive menu, even on a terminal" } as const satisfies Switch;

/** `--file <path>` gives a string (or its default), `--json` and `--no-menu` a boolean (true when given). */
export type SwitchValues<W extends Switches> = {
  [K in keyof W]: W[K]["flag"] extends `${string}<${string}` ? (W[K]["default"] extends string ? string : string | undefined) : boolean;
};

export interface CommandSpec<S extends Settings = Settings, W extends Switches = Switches> {
  /** The name and positional arguments, as cac takes them: `central [operation] [...args]`. */
  usage: string;
  description: string;
  settings: S;
  switches?: W;
  examples?: string[];
}

export interface Invocation<S extends Settings, W extends Switches> {
  /** Positional arguments after the command name. */
  args: string[];
  /** Settings given on the command line, by variable name (for loadSettings). */
  flags: FlagValues<S>;
  switches: SwitchValues<W>;
}

const specOf = new WeakMap<Command, CommandSpec>();

/** The declaration behind a registered command (for its help). */
export function commandSpec(command: Command | undefined): CommandSpec | undefined {
  return command ? specOf.get(command) : undefined;
}

export function defineCommand<S extends Settings, const W extends Switches = Record<never, Switch>>(
  cli: CAC,
  spec: CommandSpec<S, W>,
  run: (invocation: Invocation<S, W>) => Promise<void>,
): Command {
  const command = cli.command(spec.usage, spec.description);
  const flags = [...Object.values(spec.settings).flatMap((s) => (s.flag ? [s.flag] : [])), ...Object.values(spec.switches ?? {}).map((s) => s.flag)];
  const names = flags.map(flagName);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice) throw new Error(`evnet ${spec.usage}: ${twice} is declared twice`);
  for (const flag of flags) command.option(flag, "");
  // Old names are parsed (and warned about) but not shown: the help shows the current ones.
  for (const setting of Object.values(spec.settings)) if (setting.renamedFrom?.flag) command.option(setting.renamedFrom.flag, "");
  for (const example of spec.examples ?? []) command.example(example);
  specOf.set(command, spec as unknown as CommandSpec);
  command.action(async () => {
    environment(); // a settings file that cannot be read is reported before anything starts
    const raw = cli.rawArgs.slice(2);
    await run({
      args: cli.args.map(String),
      flags: settingValues(spec.settings, raw, cli.options),
      switches: switchValues(spec.switches ?? ({} as W), raw, cli.options),
    });
  });
  return command;
}

/**
 * The text given after a flag, as typed: cac (mri) turns number-like values into numbers, which
 * would make `--id 007` the id `7`. The last occurrence wins, as with most tools.
 */
export function rawValue(args: readonly string[], flag: string): string | undefined {
  const name = flagName(flag);
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") break;
    if (arg === name && i + 1 < args.length) value = args[++i];
    else if (arg.startsWith(`${name}=`)) value = arg.slice(name.length + 1);
  }
  return value;
}

function warnRenamed(old: string, current: string): void {
  process.stderr.write(`evnet: warning: ${flagName(old)} is now called ${flagName(current)}; the old name still works in this version but will go\n`);
}

/** What a setting's flag gives, as text: its value, or "true" / "false" for a switch (`--allow-plain`). */
function flagText(flag: string, args: readonly string[], options: Record<string, unknown>): string | undefined {
  const given = options[optionKey(flag)];
  if (given === undefined) return undefined;
  if (takesValue(flag)) return rawValue(args, flag);
  const negated = flagName(flag).startsWith("--no-");
  return given === !negated ? String(!negated) : undefined;
}

function settingValues<S extends Settings>(settings: S, args: readonly string[], options: Record<string, unknown>): FlagValues<S> {
  const out: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(settings)) {
    if (!setting.flag) continue;
    let value = flagText(setting.flag, args, options);
    const old = setting.renamedFrom?.flag;
    if (value === undefined && old && options[optionKey(old)] !== undefined) {
      warnRenamed(old, setting.flag);
      value = flagText(old, args, options);
    }
    if (value !== undefined && setting.secret === "value")
      process.stderr.write(
        `evnet: warning: ${flagName(setting.flag)} puts a secret on the command line, where other users of this machine can read it; prefer ${name} in the environment or .env\n`,
      );
    if (value !== undefined) out[name] = value;
  }
  return out as FlagValues<S>;
}

function switchValues<W extends Switches>(switches: W, args: readonly string[], options: Record<string, unknown>): SwitchValues<W> {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(switches)) {
    const given = options[optionKey(s.flag)];
    if (takesValue(s.flag)) out[key] = given === undefined ? s.default : rawValue(args, s.flag);
    else if (flagName(s.flag).startsWith("--no-")) out[key] = given === false;
    else out[key] = given === true;
  }
  return out as SwitchValues<W>;
}
