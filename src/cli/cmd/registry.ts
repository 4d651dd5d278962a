import type { CAC } from "cac";
import { registrySettings } from "../../roles/registry/config.ts";
import { defineCommand } from "../command.ts";

export function register(cli: CAC): void {
  defineCommand(
    cli,
    {
      usage: "registry",
      description: "Run the Registry, the HTTPS service where CPs are registered",
      settings: registrySettings,
      examples: ["evnet registry --host 0.0.0.0"],
    },
    async ({ flags }) => {
      const { loadRegistryConfig } = await import("../../roles/registry/config.ts");
      const { runRole } = await import("../run-role.ts");
      const config = loadRegistryConfig(flags);
      const { start } = await import("../../roles/registry/index.ts");
      await runRole("registry", () => start(config));
    },
  );
}
