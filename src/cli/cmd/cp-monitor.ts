import type { CAC } from "cac";
import { notBuilt } from "../not-built.ts";

export function register(cli: CAC): void {
  cli.command("cp-monitor", "Run a charging point's monitor (registration, authentication, supervision)").action(async () => notBuilt("cp-monitor"));
}
