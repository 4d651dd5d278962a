import type { CAC } from "cac";
import { chargerSettings } from "../../roles/ocpp-charger/config.ts";
import { defineCommand, NO_MENU } from "../command.ts";

export function register(cli: CAC): void {
  defineCommand(
    cli,
    {
      usage: "ocpp-charger",
      description: "Run a simulated OCPP charger (1.6 or 2.0.1) against a gateway: plug, unplug, RFID tap, fault",
      settings: chargerSettings,
      switches: { noMenu: NO_MENU },
      examples: ["OCPP_PASSWORD=<its password> evnet ocpp-charger --id CP_OCPP_01 --url ws://127.0.0.1:9000/ocpp --ocpp 2.0.1"],
    },
    async ({ flags, switches }) => {
      const { loadChargerConfig } = await import("../../roles/ocpp-charger/config.ts");
      const config = loadChargerConfig(flags);
      const { runRole } = await import("../run-role.ts");
      const { interactive, LogCapture } = await import("../menu.ts");
      const { createLogger } = await import("../../lib/log.ts");
      const logs = !switches.noMenu && interactive() ? new LogCapture() : undefined;
      await runRole("ocpp-charger", async () => {
        const { start } = await import("../../roles/ocpp-charger/index.ts");
        const running = await start(config, createLogger(`ocpp-charger ${config.OCPP_CHARGER_ID}`));
        const abort = new AbortController();
        let done: Promise<void> | undefined;
        if (logs) {
          const { chargerMenu } = await import("../../roles/ocpp-charger/menu.ts");
          done = chargerMenu(running.charger, logs, abort.signal);
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
