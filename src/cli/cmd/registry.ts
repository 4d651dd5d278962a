import type { CAC } from "cac";
import { notBuilt } from "../not-built.ts";

export function register(cli: CAC): void {
  cli.command("registry", "Run the Registry, the HTTPS service where CPs are registered").action(async () => notBuilt("registry"));
}
