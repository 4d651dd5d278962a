import type { CAC } from "cac";
import { notBuilt } from "../not-built.ts";

export function register(cli: CAC): void {
  cli.command("weather", "Run the Weather Control Office").action(async () => notBuilt("weather"));
}
