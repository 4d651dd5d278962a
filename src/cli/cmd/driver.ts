import type { CAC } from "cac";
import { driverSettings } from "../../roles/driver/config.ts";
import { defineCommand, NO_MENU } from "../command.ts";

export function register(cli: CAC): void {
  defineCommand(
    cli,
    {
      usage: "driver",
      description:
        "Run a driver's app: the menu on a terminal; or one action: --cp (charge once), --file (auto mode), --list, --history; the first run registers the driver",
      settings: driverSettings,
      switches: {
        file: { flag: "--file <path>", help: "auto mode: charge at each CP listed in the file, in turn, then exit" },
        cp: { flag: "--cp <cp>", help: "charge once at this CP, then exit" },
        list: { flag: "--list", help: "list the available charging points and exit (needs the API only)" },
        history: { flag: "--history", help: "show the driver's charging history and exit (needs the API only)" },
        json: { flag: "--json", help: "print tickets and refusals as JSON lines on stdout (logs and progress on stderr)" },
        noMenu: NO_MENU,
      },
      examples: [
        "evnet driver --id D1",
        "evnet driver --id D1 --cp CP_001 --charge-seconds 10",
        "evnet driver --id D1 --file cps.txt --charge-seconds 10 --json",
      ],
    },
    async ({ flags, switches }) => {
      const { loadDriverConfig } = await import("../../roles/driver/config.ts");
      const config = loadDriverConfig(flags);
      const { runDriver } = await import("../../roles/driver/run.ts");
      await runDriver(config, switches);
    },
  );
}
