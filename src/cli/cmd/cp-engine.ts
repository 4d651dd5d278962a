import type { CAC } from "cac";
import { notBuilt } from "../not-built.ts";

export function register(cli: CAC): void {
  cli.command("cp-engine", "Run a charging point's energy engine").action(async () => notBuilt("cp-engine"));
}
