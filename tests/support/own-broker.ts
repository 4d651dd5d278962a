/**
 * A Kafka broker of a test's own (scripts/services.sh kafka-up with its own folder and ports),
 * for tests that stop and start the broker: the shared test broker is never disturbed. A secure
 * one requires TLS and SASL/SCRAM and enforces ACLs (EVNET_KAFKA_SECURE=1); `login` holds what
 * its administrator sets (KAFKA_TLS_CA_FILE, KAFKA_SASL_*) and EVNET_KAFKA_SECRETS_DIR.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./network-processes.ts";

const SCRIPT = new URL("../../scripts/services.sh", import.meta.url).pathname;

export class OwnBroker {
  private dir = mkdtempSync(join(tmpdir(), "evnet-own-kafka-"));
  private env: Record<string, string> = {};
  brokers: string[] = [];
  /** Every VARIABLE=value line `kafka-up` printed, KAFKA_BROKERS aside. */
  login: Record<string, string> = {};

  constructor(private readonly options: { secure?: boolean } = {}) {}

  private async run(command: "kafka-up" | "kafka-down"): Promise<string> {
    const proc = Bun.spawn(["bash", SCRIPT, command], { env: { ...process.env, ...this.env } as Record<string, string>, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`services.sh ${command} failed (${code}):\n${err}`);
    return out;
  }

  async up(): Promise<void> {
    if (this.brokers.length === 0) {
      this.env = {
        EVNET_SERVICES_DIR: this.dir,
        EVNET_KAFKA_PORT: String(await freePort()),
        EVNET_KAFKA_CONTROLLER_PORT: String(await freePort()),
        ...(this.options.secure && { EVNET_KAFKA_SECURE: "1" }),
      };
    }
    const out = await this.run("kafka-up");
    const printed: Record<string, string> = Object.fromEntries([...out.matchAll(/^([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    const { KAFKA_BROKERS, ...login } = printed;
    this.brokers = KAFKA_BROKERS!.split(",");
    this.login = login;
  }

  down(): Promise<string> {
    return this.run("kafka-down");
  }

  async remove(): Promise<void> {
    if (this.brokers.length) await this.down().catch(() => "");
    rmSync(this.dir, { recursive: true, force: true });
  }
}
