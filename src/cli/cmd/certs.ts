import type { CAC } from "cac";
import { notBuilt } from "../not-built.ts";

export function register(cli: CAC): void {
  cli.command("certs", "Make a local CA and server certificates into certs/").action(async () => notBuilt("certs"));
}
