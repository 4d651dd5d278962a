import type { CAC } from "cac";
import { requireBrokers } from "../../config/common.ts";
import { engineSettings } from "../../roles/cp-engine/config.ts";
import { defineCommand, NO_MENU } from "../command.ts";

export function register(cli: CAC): void {
  defineCommand(
    cli,
    {
      usage: "cp-engine",
      description: "Run a charging point's energy engine (supplies, streams telemetry, answers its monitor)",
      settings: engineSettings,
      switches: { noMenu: NO_MENU },
      examples: ["evnet cp-engine --id CP_001 --port 50032 --power-kw 22"],
    },
    async ({ flags, switches }) => {
      const { loadEngineConfig } = await import("../../roles/cp-engine/config.ts");
      const config = requireBrokers(loadEngineConfig(flags));
      const { runRole } = await import("../run-role.ts");
      const { interactive, LogCapture } = await import("../menu.ts");
      const logs = !switches.noMenu && interactive() ? new LogCapture() : undefined;
      await runRole("cp-engine", async () => {
        const { start, simulateWithSignals } = await import("../../roles/cp-engine/index.ts");
        const running = await start(config);
        const unhook = simulateWithSignals(running.engine);
        const abort = new AbortController();
        let done: Promise<void> | undefined;
        if (logs) {
          const { engineMenu } = await import("../../roles/cp-engine/menu.ts");
          done = engineMenu(running.engine, config.MAX_CHARGING_DURATION, logs, abort.signal);
        }
        return {
          done,
          async stop() {
            abort.abort();
            unhook();
            await running.stop();
          },
        };
      });
    },
  );
}
