/** How `evnet driver` runs: one headless action chosen by flags, or the menu on a terminal. */
import { interactive, LogCapture } from "../../cli/menu.ts";
import { runRole } from "../../cli/run-role.ts";
import { requireBrokers } from "../../config/common.ts";
import { AppError } from "../../lib/errors.ts";
import { type Level, setLogSink } from "../../lib/log.ts";
import { availableCps, formatCps, formatHistory, history } from "./api.ts";
import { chargeOnce, readCpFile, runAuto } from "./charging.ts";
import type { DriverConfig } from "./config.ts";
import { chargeSettings, start } from "./index.ts";
import { jsonReporter, type Reporter, textReporter, ttyReporter } from "./output.ts";

export interface DriverRunFlags {
  file?: string;
  cp?: string;
  list?: boolean;
  history?: boolean;
  json?: boolean;
  noMenu?: boolean;
}

export async function runDriver(config: DriverConfig, flags: DriverRunFlags): Promise<void> {
  if (flags.list || flags.history) {
    const text = flags.list ? formatCps(await availableCps(config)) : formatHistory(await history(config, config.DRIVER_ID));
    console.log(text);
    return;
  }
  const cps = flags.file ? readCpFile(flags.file) : undefined;
  const headlessAction = cps !== undefined || flags.cp !== undefined;
  const withMenu = !headlessAction && !flags.noMenu && interactive();
  if (!headlessAction && !withMenu)
    throw new AppError("bad_request", `nothing to do: ${flags.noMenu ? "--no-menu leaves no menu" : "the menu needs a terminal"}`, undefined, {
      hint: "give an action: --cp <id> (charge once), --file <path> (auto mode), --list or --history",
    });
  requireBrokers(config, "to charge (requests and tickets travel on the bus)");
  // With --json, stdout carries only JSON lines: every log line goes to stderr.
  if (flags.json) setLogSink((line: string, _level: Level) => process.stderr.write(`${line}\n`));
  const logs = withMenu ? new LogCapture() : undefined;
  const out: Reporter = flags.json ? jsonReporter() : process.stdout.isTTY ? ttyReporter() : textReporter();
  await runRole("driver", async () => {
    const running = await start(config);
    const abort = new AbortController();
    /** The exit code when the role ends by itself (undefined: a plain exit). */
    let done: Promise<number | undefined> | undefined;
    if (cps) done = runAuto(running.client, cps, chargeSettings(config), out, abort.signal).then(() => 0);
    else if (flags.cp) done = chargeOnce(running.client, flags.cp, chargeSettings(config), out, abort.signal).then((o) => (o.kind === "ticket" ? 0 : 1));
    else {
      const { driverMenu } = await import("./menu.ts");
      done = driverMenu(running.client, config, logs!, abort.signal).then(() => undefined);
    }
    return {
      done,
      async stop() {
        abort.abort();
        await running.stop();
      },
    };
  });
}
