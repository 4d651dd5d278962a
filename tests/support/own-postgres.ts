/**
 * A PostgreSQL cluster of a test's own (scripts/services.sh pg-up with its own folder and port),
 * for tests that stop and start the database: the shared test server is never disturbed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./network-processes.ts";

const SCRIPT = new URL("../../scripts/services.sh", import.meta.url).pathname;

export class OwnPostgres {
  private dir = mkdtempSync(join(tmpdir(), "evnet-own-pg-"));
  private env: Record<string, string> = {};
  url = "";
  /** The folder of the cluster's Unix-domain socket: a DATABASE_URL with `?host=<it>` reaches the cluster through it. */
  socketDir = "";

  private async run(command: "pg-up" | "pg-down", extra: Record<string, string> = {}): Promise<string> {
    const proc = Bun.spawn(["bash", SCRIPT, command], {
      env: { ...process.env, ...this.env, ...extra } as Record<string, string>,
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`services.sh ${command} failed (${code}):\n${err}`);
    return out;
  }

  /** Starts the cluster (created the first time) and waits until it answers. */
  async up(): Promise<void> {
    if (!this.url) this.env = { EVNET_SERVICES_DIR: this.dir, EVNET_PG_PORT: String(await freePort()) };
    const out = await this.run("pg-up");
    this.url = /DATABASE_URL=(\S+)/.exec(out)![1]!;
    this.socketDir = /DATABASE_SOCKET_DIR=(\S+)/.exec(out)![1]!;
  }

  /** Stops it: `crash` cuts every connection without a checkpoint, as a crashed server would. */
  async down(crash = false): Promise<void> {
    await this.run("pg-down", crash ? { EVNET_PG_STOP_MODE: "immediate" } : {});
  }

  async remove(): Promise<void> {
    if (this.url) await this.down().catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}
