/**
 * The compiled `evnet` executable for tests: built once per test run (bun test runs every file
 * in one process, so files share it) and copied into a folder without node_modules.
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let built: Promise<string> | undefined;

async function buildOnce(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), "evnet-bin-"));
  const out = join(root, "dist", "evnet");
  const build = Bun.spawn([process.execPath, "scripts/build.ts", "--outfile", out], { stdout: "pipe", stderr: "pipe" });
  if ((await build.exited) !== 0) throw new Error(`build failed:\n${await new Response(build.stdout).text()}\n${await new Response(build.stderr).text()}`);
  return out;
}

/** Copies the (once-built) binary into `dir` and returns its path there. */
export async function compiledBinaryIn(dir: string): Promise<string> {
  built ??= buildOnce();
  mkdirSync(dir, { recursive: true });
  const target = join(dir, "evnet");
  copyFileSync(await built, target);
  chmodSync(target, 0o755);
  return target;
}
