import type { CAC } from "cac";
import { requireBrokers } from "../../config/common.ts";
import { apiSettings } from "../../roles/api/config.ts";
import { defineCommand } from "../command.ts";

export function register(cli: CAC): void {
  defineCommand(
    cli,
    {
      usage: "api",
      description: "Run Central's REST API and the web dashboard",
      settings: apiSettings,
      examples: ["evnet api --host 0.0.0.0 --tls-cert certs/server.pem --tls-key certs/server-key.pem"],
    },
    async ({ flags }) => {
      const { loadApiConfig } = await import("../../roles/api/config.ts");
      const config = requireBrokers(loadApiConfig(flags));
      const { runRole } = await import("../run-role.ts");
      const { start } = await import("../../roles/api/index.ts");
      await runRole("api", () => start(config));
    },
  );
}
