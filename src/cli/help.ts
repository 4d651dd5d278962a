/**
 * `evnet <command> --help`, from the command's declaration: every option with the environment
 * variable it stands for and its default, the secrets the role needs (which never go on the
 * command line), and the variables it reads from the environment only.
 */
import type { CAC } from "cac";
import { defaultOf, isRequired, type Setting } from "../config/settings.ts";
import { type CommandSpec, commandSpec } from "./command.ts";

interface HelpSection {
  title?: string;
  body: string;
}

const GLOBAL_OPTIONS: [string, string][] = [
  ["-h, --help", "show this help"],
  ["-v, --version", "show evnet's version"],
];

/** Breaks `text` into lines of at most `room` characters, at spaces. */
function wrap(text: string, room: number): string[] {
  // "env NAME" and "default: value" stay on one line, so a reader (or grep) finds them whole.
  const words = text
    .replace(/(\(env|default:) /g, "$1\u0000")
    .split(" ")
    .map((w) => w.replace("\u0000", " "));
  const lines = [""];
  for (const word of words) {
    const last = lines.length - 1;
    if (lines[last] && lines[last]!.length + word.length + 1 > room) lines.push(word);
    else lines[last] = lines[last] ? `${lines[last]} ${word}` : word;
  }
  return lines;
}

/** Lays out `[name, text]` rows in two columns; a name too long for its column gets a line of its own. */
export function columns(rows: [string, string][], width = Math.max(80, Math.min(process.stdout.columns || 100, 140))): string {
  const left = Math.min(Math.max(...rows.map(([name]) => name.length)) + 2, 34);
  const indent = " ".repeat(left + 2);
  return rows
    .map(([name, text]) => {
      const lines = wrap(text, Math.max(30, width - left - 2));
      const head = name.length + 2 > left ? [`  ${name}`, `${indent}${lines[0]}`] : [`  ${name.padEnd(left)}${lines[0]}`];
      return [...head, ...lines.slice(1).map((line) => `${indent}${line}`)].join("\n");
    })
    .join("\n");
}

function describe(name: string, setting: Setting): string {
  const fallback = defaultOf(setting);
  return `${setting.help} (env ${name}${fallback ? `, default: ${fallback}` : ""})`;
}

function optionRows(spec: CommandSpec): [string, string][] {
  const rows: [string, string][] = [];
  for (const [name, setting] of Object.entries(spec.settings)) if (setting.flag) rows.push([setting.flag, describe(name, setting)]);
  for (const s of Object.values(spec.switches ?? {})) rows.push([s.flag, s.default === undefined ? s.help : `${s.help} (default: ${s.default})`]);
  return [...rows, ...GLOBAL_OPTIONS];
}

function secretRows(spec: CommandSpec): [string, string][] {
  return Object.entries(spec.settings)
    .filter(([, s]) => s.secret)
    .map(([name, s]) => {
      const need = isRequired(s) ? "required" : defaultOf(s) ? `default: ${defaultOf(s)}` : "optional";
      return [s.flag ? `${name} (${s.flag.split(" ")[0]})` : name, `${s.help} [${need}]`];
    });
}

function environmentOnly(spec: CommandSpec): string[] {
  return Object.entries(spec.settings)
    .filter(([, s]) => !s.flag && !s.secret)
    .map(([name]) => name);
}

/** The sections of a command's help; cac's header, usage and examples are kept. */
export function commandHelp(spec: CommandSpec, sections: HelpSection[]): HelpSection[] {
  const out: HelpSection[] = [];
  for (const section of sections) {
    if (section.title === "Options") {
      out.push({ body: `  ${spec.description}` });
      out.push({ title: "Options", body: columns(optionRows(spec)) });
      if (Object.keys(spec.settings).length === 0) continue;
      const secrets = secretRows(spec);
      out.push({
        title: "Secrets this role needs (from the environment or .env, never the command line; files readable by their owner only)",
        body: secrets.length ? columns(secrets) : "  none: this role needs no secret",
      });
      const others = environmentOnly(spec);
      out.push({
        title: "Settings",
        body: columns([
          ["precedence", "command-line option > environment variable > .env in the working directory (or the file EVNET_ENV_FILE names)"],
          ...(others.length ? ([["also read", `${others.join(", ")} (what each does: .env.example)`]] as [string, string][]) : []),
        ]),
      });
    } else if (section.title === "Examples") out.push({ title: "Examples", body: section.body.replace(/^/gm, "  $ ") });
    else out.push(section);
  }
  return out;
}

/** Installs evnet's help on cac: commands declared with defineCommand get `commandHelp`. */
export function installHelp(cli: CAC): void {
  cli.help((sections) => {
    const spec = commandSpec(cli.matchedCommand);
    if (spec) return commandHelp(spec, sections);
    return [
      ...sections.map((s) => (s.title === "Options" ? { title: "Options", body: columns(GLOBAL_OPTIONS) } : s)),
      {
        title: "Settings",
        body: "  Every option of a command also reads an environment variable (or a line of .env): its --help says which,\n  and the secrets it needs. .env.example lists them all.",
      },
    ];
  });
}
