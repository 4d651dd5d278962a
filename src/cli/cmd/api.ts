import type { CAC } from "cac";
import { notBuilt } from "../not-built.ts";

export function register(cli: CAC): void {
  cli.command("api", "Run Central's REST API and the web dashboard").action(async () => notBuilt("api"));
}
