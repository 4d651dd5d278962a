import type { CAC } from "cac";
import { notBuilt } from "../not-built.ts";

export function register(cli: CAC): void {
  cli.command("up", "Run the whole network in one process on embedded defaults").action(async () => notBuilt("up"));
}
