#!/usr/bin/env bun
/**
 * The `evnet` executable. This file only wires subcommands; each lives in src/cli/cmd/ and
 * imports what it needs lazily, so `evnet --help` loads nothing heavy.
 */
import { cac } from "cac";
import pkg from "../package.json";
import { commands } from "./cli/commands.ts";
import { reportError } from "./cli/errors.ts";

const cli = cac("evnet");
for (const register of commands) register(cli);
cli.help();
cli.version(pkg.version);

try {
  cli.parse(process.argv, { run: false });
  if (!cli.matchedCommand && !cli.options.help && !cli.options.version) {
    if (cli.args.length) {
      console.error(`evnet: unknown command '${cli.args.join(" ")}'. See 'evnet --help'.`);
      process.exit(2);
    }
    cli.outputHelp();
  }
  await cli.runMatchedCommand();
} catch (err) {
  process.exit(reportError(err));
}
