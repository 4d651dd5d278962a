/** The machine and software a benchmark ran on, for the report. */
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { benchSql } from "./postgres.ts";

export interface Machine {
  date: string;
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  bun: string;
  kafka: string;
  postgresql: string;
  /** Load average of the machine when the run started (others' work shares the cores too). */
  loadAverageAtStart: number[];
}

export async function describeMachine(databaseUrl: string, kafkaPid: number | undefined): Promise<Machine> {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const sql = benchSql(databaseUrl);
  let postgresql = "unknown";
  try {
    postgresql = String((await sql`show server_version`)[0]?.server_version ?? "unknown");
  } finally {
    await sql.end();
  }
  return {
    date: new Date().toISOString(),
    cores: cpus().length,
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: readFileSync("/proc/sys/kernel/osrelease", "utf8").trim(),
    bun: Bun.version,
    kafka: kafkaVersion(kafkaPid),
    postgresql,
    loadAverageAtStart: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number),
  };
}

/** The broker's version, read from its classpath (scripts/services.sh caches kafka-<version>). */
function kafkaVersion(pid: number | undefined): string {
  if (!pid) return "unknown";
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return /kafka[-_](?:2\.13-)?(\d+\.\d+\.\d+)/.exec(cmdline)?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
}
