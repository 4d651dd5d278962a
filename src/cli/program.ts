/**
 * The `evnet` program: registers the subcommands, parses the command line, runs the command
 * asked for, and turns any error into one line and an exit code (src/cli/errors.ts).
 */
import { type CAC, cac } from "cac";
import pkg from "../../package.json";
import { optionKey } from "../config/settings.ts";
import { commands } from "./commands.ts";
import { reportError, UsageError } from "./errors.ts";
import { installHelp } from "./help.ts";

/** evnet's version and the runtime it really runs on (cac would print Node's compatibility version). */
export function versionText(): string {
  return `evnet/${pkg.version} ${process.platform}-${process.arch} bun-${Bun.version}`;
}

const GLOBAL_FLAGS = new Set(["-h", "--help", "-v", "--version"]);

/** Without a command, only --help and --version mean something: anything else is a mistake. */
function refuseWithoutCommand(cli: CAC, argv: string[]): void {
  if (cli.args.length) throw new UsageError(`unknown command '${cli.args.join(" ")}'`, "see 'evnet --help' for the commands");
  const stray = argv.slice(2).find((arg) => arg.startsWith("-") && !GLOBAL_FLAGS.has(arg.split("=")[0]!));
  if (!stray) return;
  const name = stray.split("=")[0]!;
  const owners = cli.commands.filter((c) => c.hasOption(optionKey(name))).map((c) => c.name);
  const hint = owners.length
    ? `${name} is an option of 'evnet ${owners.join("', 'evnet ")}': evnet ${owners[0]} ${argv.slice(2).join(" ")}`
    : "see 'evnet --help' for the commands and their options";
  throw new UsageError(`unknown option ${name} (without a command)`, hint);
}

/** Runs evnet with `argv` (process.argv); resolves with the exit code for a command that ended. */
export async function main(argv: string[]): Promise<number> {
  const cli = cac("evnet");
  for (const register of commands) register(cli);
  installHelp(cli);
  cli.version(pkg.version, "-v, --version"); // the help's header; the version itself is printed below
  cli.showVersionOnExit = false;
  try {
    cli.parse(argv, { run: false });
    if (cli.options.version) console.log(versionText());
    else if (cli.options.help)
      return 0; // cac printed it
    else if (cli.matchedCommand) await cli.runMatchedCommand();
    else {
      refuseWithoutCommand(cli, argv);
      cli.outputHelp();
    }
    return 0;
  } catch (err) {
    return reportError(err, cli.matchedCommandName);
  }
}
