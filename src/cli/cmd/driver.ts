import type { CAC } from "cac";
import { notBuilt } from "../not-built.ts";

export function register(cli: CAC): void {
  cli.command("driver", "Run a driver's app").action(async () => notBuilt("driver"));
}
