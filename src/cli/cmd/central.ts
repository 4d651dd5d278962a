import type { CAC } from "cac";
import { requireBrokers } from "../../config/common.ts";
import { centralSettings } from "../../roles/central/config.ts";
import { defineCommand, NO_MENU } from "../command.ts";

export function register(cli: CAC): void {
  defineCommand(
    cli,
    {
      usage: "central [operation] [...args]",
      description:
        "Run Central, the control core; or one admin operation: cps [all|available|active], cp <id>, sessions [n], session <id>, stop <id|all>, resume <id|all>, revoke <id>, register-ocpp <id> <location> [profile] [price], register-driver <id>, stats, dead-letters [list [status]|show <id>|replay <id>]",
      settings: centralSettings,
      switches: { json: { flag: "--json", help: "operations: print JSON, in the API's field names" }, noMenu: NO_MENU },
      examples: ["evnet central", "evnet central stop CP_001", "evnet central cps available --json", "evnet central dead-letters show 12"],
    },
    async ({ args, flags, switches }) => {
      const [operation, ...rest] = args;
      if (operation) {
        const { loadOperationConfig, runOperation } = await import("../../roles/central/operations.ts");
        await runOperation(operation, rest, loadOperationConfig(flags), switches.json);
        return;
      }
      const { loadCentralConfig } = await import("../../roles/central/config.ts");
      const config = requireBrokers(loadCentralConfig(flags));
      const { runRole } = await import("../run-role.ts");
      const { interactive, LogCapture } = await import("../menu.ts");
      const logs = !switches.noMenu && interactive() ? new LogCapture() : undefined;
      await runRole("central", async () => {
        const { start } = await import("../../roles/central/index.ts");
        const running = await start(config);
        const abort = new AbortController();
        let done: Promise<void> | undefined;
        if (logs) {
          const { centralMenu } = await import("../../roles/central/menu.ts");
          const { createAuditor } = await import("../../audit/audit.ts");
          const { ctx } = running;
          const { loadControlSigner } = await import("../../certs/control-keys.ts");
          const { CENTRAL_ADMIN_SIGNER } = await import("../../roles/central/admin.ts");
          done = centralMenu(
            {
              db: ctx.db,
              bus: ctx.bus,
              topics: ctx.topics,
              auditor: createAuditor(ctx.db, ctx.log),
              controlSigner: loadControlSigner(config.EVNET_CONTROL_SIGNING_KEY, CENTRAL_ADMIN_SIGNER, ctx.log),
            },
            ctx.settings.instance,
            logs,
            abort.signal,
          );
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
