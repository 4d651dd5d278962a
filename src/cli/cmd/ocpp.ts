import type { CAC } from "cac";
import { requireBrokers } from "../../config/common.ts";
import { gatewaySettings } from "../../roles/ocpp/config.ts";
import { defineCommand } from "../command.ts";

export function register(cli: CAC): void {
  defineCommand(
    cli,
    {
      usage: "ocpp",
      description: "Run the OCPP-J gateway: real chargers (OCPP 1.6J, 2.0.1) join at ws(s)://HOST:PORT/ocpp/<charger id>",
      settings: gatewaySettings,
      examples: ["evnet ocpp --host 0.0.0.0 --tls-cert certs/server.pem --tls-key certs/server-key.pem --api-url https://api.example.lan:8000"],
    },
    async ({ flags }) => {
      const { loadGatewayConfig } = await import("../../roles/ocpp/config.ts");
      const config = requireBrokers(loadGatewayConfig(flags));
      const { runRole } = await import("../run-role.ts");
      const { start } = await import("../../roles/ocpp/index.ts");
      await runRole("ocpp", () => start(config));
    },
  );
}
