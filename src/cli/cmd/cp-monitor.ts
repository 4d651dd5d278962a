import type { CAC } from "cac";
import { requireBrokers } from "../../config/common.ts";
import { monitorSettings } from "../../roles/cp-monitor/config.ts";
import { defineCommand, NO_MENU } from "../command.ts";

export function register(cli: CAC): void {
  defineCommand(
    cli,
    {
      usage: "cp-monitor",
      description: "Run a charging point's monitor (registers, authenticates, supervises its engine)",
      settings: monitorSettings,
      switches: {
        register: { flag: "--register", help: "register with the Registry if needed (no credential, a new location, expiring)" },
        authenticate: { flag: "--authenticate", help: "authenticate with Central at start (a fresh channel key)" },
        deregister: { flag: "--deregister", help: "deregister the CP at the Registry and exit" },
        details: { flag: "--details", help: "print the connection details and exit" },
        noMenu: NO_MENU,
      },
      examples: ["evnet cp-monitor --id CP_001 --location Madrid --engine 127.0.0.1:50032 --register --authenticate"],
    },
    async ({ flags, switches }) => {
      const { loadMonitorConfig } = await import("../../roles/cp-monitor/config.ts");
      const config = loadMonitorConfig(flags);
      const { createLogger } = await import("../../lib/log.ts");
      const log = createLogger(`cp-monitor ${config.CP_ID}`);
      if (switches.deregister || switches.details) {
        const { oneShot } = await import("../../roles/cp-monitor/one-shot.ts");
        await oneShot(config, switches.deregister ? "deregister" : "details", log);
        return;
      }
      requireBrokers(config);
      const { runRole } = await import("../run-role.ts");
      const { interactive, LogCapture } = await import("../menu.ts");
      const withMenu = !switches.noMenu && interactive();
      const logs = withMenu ? new LogCapture() : undefined;
      await runRole("cp-monitor", async () => {
        const { start } = await import("../../roles/cp-monitor/index.ts");
        const running = await start(config, { register: switches.register, authenticate: switches.authenticate, allowNoKey: withMenu }, { log });
        const abort = new AbortController();
        let done: Promise<void> | undefined;
        if (logs) {
          const { monitorMenu } = await import("../../roles/cp-monitor/menu.ts");
          done = monitorMenu(running, config, log, logs, abort.signal);
        }
        return {
          done,
          async stop() {
            abort.abort();
            await running.stop();
          },
        };
      });
    },
  );
}
