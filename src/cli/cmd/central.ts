import type { CAC } from "cac";
import { notBuilt } from "../not-built.ts";

export function register(cli: CAC): void {
  cli.command("central", "Run Central, the control core (bus consumer, admin menu)").action(async () => notBuilt("central"));
}
