#!/usr/bin/env bun
/**
 * The `evnet` executable. This file only starts the program (src/cli/program.ts); each
 * subcommand lives in src/cli/cmd/ and imports what it needs lazily, so `evnet --help` loads
 * nothing heavy.
 */
import { main } from "./cli/program.ts";

const code = await main(process.argv);
// A role that started keeps running (its servers and timers hold the process); a failure ends it.
if (code !== 0) process.exit(code);
