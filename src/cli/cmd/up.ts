import type { CAC } from "cac";
import { upSettings } from "../../roles/up/config.ts";
import { defineCommand } from "../command.ts";

export function register(cli: CAC): void {
  defineCommand(
    cli,
    {
      usage: "up",
      description: "Run the whole network in one process on embedded defaults; other terminals can join it (it prints how)",
      settings: upSettings,
      examples: ["evnet up --cps 10 --drivers 5", "evnet up --cps 3 --ocpp-cps 2", "evnet up --kafka-brokers 127.0.0.1:9092"],
    },
    async ({ flags }) => {
      const { loadUpConfig } = await import("../../roles/up/config.ts");
      const config = loadUpConfig(flags);
      const { runRole } = await import("../run-role.ts");
      const { start } = await import("../../roles/up/index.ts");
      const { upBanner } = await import("../../roles/up/join.ts");
      await runRole(
        "up",
        async () => {
          const network = await start(config);
          console.log(upBanner(network));
          return network;
        },
        20_000,
      );
    },
  );
}
