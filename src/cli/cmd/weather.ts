import type { CAC } from "cac";
import { weatherSettings } from "../../roles/weather/config.ts";
import { defineCommand, NO_MENU } from "../command.ts";

export function register(cli: CAC): void {
  defineCommand(
    cli,
    {
      usage: "weather",
      description: "Run the Weather Control Office (frost alerts for CP locations)",
      settings: weatherSettings,
      switches: { noMenu: NO_MENU },
      examples: ["evnet weather --api-url https://central.example.lan:8000 --ca-file certs/ca.pem"],
    },
    async ({ flags, switches }) => {
      const { loadWeatherConfig } = await import("../../roles/weather/config.ts");
      const { runRole } = await import("../run-role.ts");
      const config = loadWeatherConfig(flags);
      const { start } = await import("../../roles/weather/index.ts");
      const { interactive } = await import("../menu.ts");
      await runRole("weather", () => start(config, { interactive: !switches.noMenu && interactive() }));
    },
  );
}
