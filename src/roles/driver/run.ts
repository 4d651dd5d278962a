/** How `evnet driver` runs: one headless action chosen by flags, or the menu on a terminal. */
import { interactive, LogCapture } from "../../cli/menu.ts";
import { runRole } from "../../cli/run-role.ts";
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
  menu?: boolean;
}

export async function runDriver(config: DriverConfig, flags: DriverRunFlags): Promise<void> {
  if (flags.list || flags.history) {
    const text = flags.list ? formatCps(await availableCps(config)) : formatHistory(await history(config, config.DRIVER_ID));
    console.log(text);
    return;
  }
  const cps = flags.file ? readCpFile(flags.file) : undefined;
  const headlessAction = cps !== undefined || flags.cp !== undefined;
  const withMenu = !headlessAction && flags.menu !== false && interactive();
  // With --json, stdout carries only JSON lines: every log line goes to stderr.
  if (flags.json) setLogSink((line: string, _level: Level) => process.stderr.write(`${line}\n`));
  const logs = withMenu ? new LogCapture() : undefined;
  const out: Reporter = flags.json ? jsonReporter() : process.stdout.isTTY ? ttyReporter() : textReporter();
  await runRole("driver", async () => {
    const running = await start(config);
    const abort = new AbortController();
    let done: Promise<number | void> | undefined;
    if (cps) done = runAuto(running.client, cps, chargeSettings(config), out, abort.signal).then(() => 0);
    else if (flags.cp) done = chargeOnce(running.client, flags.cp, chargeSettings(config), out, abort.signal).then((o) => (o.kind === "ticket" ? 0 : 1));
    else if (logs) {
      const { driverMenu } = await import("./menu.ts");
      done = driverMenu(running.client, config, logs, abort.signal);
    } else {
      // Headless without an action: follow this driver's updates until stopped.
      running.client.onUpdate((u) => {
        if (u.type === "progress") out.progress(u);
        else if (u.type === "ticket") out.ticket(u);
        else if (u.type === "refused") out.refused(u);
        else out.info(JSON.stringify(u));
      });
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
