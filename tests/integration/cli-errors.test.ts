/**
 * The mistakes of a first hour, run as a user runs them (`bun src/main.ts ...`): each ends with
 * one line that says what is wrong and how to fix it, and an exit code a script can tell apart,
 * never a stack trace. And one network per data folder: a folder in use is refused with the
 * process that holds it, a lock left by a dead process is taken over, and a folder without a
 * database is not silently turned into an empty one.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../support/network-processes.ts";
import { type RoleProcess, runEvnet, spawnRole } from "../support/processes.ts";
import { createTestDatabase, kafkaBrokers, type TestDatabase } from "../support/services.ts";

const scratch = mkdtempSync(join(tmpdir(), "evnet-cli-errors-"));
const running: RoleProcess[] = [];
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  for (const role of running) await role.stop();
  await database?.drop();
  rmSync(scratch, { recursive: true, force: true });
});

const API_SECRETS = {
  EVNET_MASTER_KEY: "ab".repeat(32),
  EVNET_OPERATOR_TOKEN: "operator-token-for-cli-tests",
  EVNET_SERVICE_TOKEN: "service-token-for-cli-tests",
};

/** The single line a failed run prints (it must be the only one, without a stack). */
function theLine(run: { stdout: string; stderr: string }): string {
  const lines = run.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe("a database that cannot be reached", () => {
  test("evnet migrate says so in one line and exits 69", async () => {
    const run = await runEvnet(["migrate", "--database-url", "postgres://evnet:secret@127.0.0.1:1/evnet"]);
    expect(run.code).toBe(69);
    expect(theLine(run)).toBe(
      "evnet migrate: cannot use PostgreSQL at postgres://evnet:***@127.0.0.1:1/evnet: connection refused; is PostgreSQL running there? Check DATABASE_URL (--database-url)",
    );
  });

  test("evnet api waits for it a while, saying why, then gives up; a database that does not exist is named", async () => {
    const down = await runEvnet(["api", "--port", "0", "--database-url", "postgres://evnet:secret@127.0.0.1:1/evnet"], {
      ...API_SECRETS,
      KAFKA_BROKERS: kafkaBrokers().join(","),
      DATABASE_START_WAIT_S: "3",
    });
    expect(down.code).toBe(69);
    expect(down.stderr).toContain(
      "cannot use PostgreSQL at postgres://evnet:***@127.0.0.1:1/evnet: connection refused; is PostgreSQL running there? Check DATABASE_URL (--database-url); trying again every second",
    );
    expect(down.stderr).toContain("evnet api: cannot use PostgreSQL at postgres://evnet:***@127.0.0.1:1/evnet: connection refused");
    expect(down.stderr).not.toMatch(/^\s+at /m);
    const url = new URL(database.url);
    url.pathname = "/evnet_no_such_database";
    const missing = await runEvnet(["migrate", "--database-url", url.toString()]);
    expect(missing.code).toBe(69);
    expect(theLine(missing)).toContain('database "evnet_no_such_database" does not exist; create it');
  });
});

describe("files and ports", () => {
  test("a missing --tls-cert file names the option, the file and how to make one (exit 78)", async () => {
    const run = await runEvnet(["api", "--tls-cert", join(scratch, "server.pem"), "--tls-key", join(scratch, "server-key.pem")], {
      ...API_SECRETS,
      DATABASE_URL: database.url,
      KAFKA_BROKERS: kafkaBrokers().join(","),
    });
    expect(run.code).toBe(78);
    expect(run.stderr).toContain(
      `evnet api: API_TLS_CERT (--tls-cert): cannot read ${join(scratch, "server.pem")}: there is no such file or folder; make it with 'evnet certs', or point the setting at yours`,
    );
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  test("a certs folder that cannot be written is refused in one line (exit 73)", async () => {
    const file = join(scratch, "a-file");
    writeFileSync(file, "not a folder");
    const run = await runEvnet(["certs", "--dir", join(file, "certs")]);
    expect(run.code).toBe(73);
    expect(theLine(run)).toBe(
      `evnet certs: cannot write the certificates to ${join(file, "certs")}: a part of the path is a file, not a folder; choose a folder you can write to with --dir, or fix its permissions`,
    );
  });

  test("a port in use is named, with how to choose another (exit 69)", async () => {
    const port = await freePort();
    const taken = Bun.serve({ hostname: "127.0.0.1", port, fetch: () => new Response("taken") });
    try {
      const run = await runEvnet(["api", "--port", String(port)], { ...API_SECRETS, DATABASE_URL: database.url, KAFKA_BROKERS: kafkaBrokers().join(",") });
      expect(run.code).toBe(69);
      expect(run.stderr).toContain(
        `evnet api: cannot listen on 127.0.0.1:${port}: the port is already in use; is evnet already running there? Stop it, or choose another port with API_PORT (--port)`,
      );
      expect(run.stderr).not.toMatch(/^\s+at /m);
    } finally {
      taken.stop(true);
    }
  }, 60_000);
});

describe("one network per data folder", () => {
  test("a folder without a database is reported, not created (exit 66)", async () => {
    const empty = join(scratch, "nothing-here");
    for (const operation of [["stats"], ["cps", "--json"], ["sessions"]]) {
      const run = await runEvnet(["central", ...operation, "--data-dir", empty]);
      expect(run.code).toBe(66);
      expect(theLine(run)).toBe(
        `evnet central: there is no embedded database in ${empty} (no ${join(empty, "pgdata")}); run it where the network keeps its data (the folder 'evnet up' runs in, or its --data-dir), or give DATABASE_URL`,
      );
    }
    expect(existsSync(empty)).toBe(false);
  });

  test("a second evnet up in the same folder is refused with the pid that holds it; a different folder on its port is told the port is taken", async () => {
    const dataDir = join(scratch, "network");
    const port = await freePort();
    const up = spawnRole("up", ["up", "--data-dir", dataDir, "--port", String(port), "--cps", "1", "--drivers", "0"], {});
    running.push(up);
    await up.waitForLine(/network up/, 90_000);

    const second = await runEvnet(["up", "--data-dir", dataDir, "--port", String(await freePort()), "--cps", "0", "--drivers", "0"]);
    expect(second.code).toBe(69);
    expect(theLine(second)).toMatch(
      new RegExp(`^evnet up: the data folder ${dataDir} is in use by pid ${up.proc.pid} \\(evnet up, since [0-9-]+ [0-9:]+\\); one process per data folder`),
    );
    const stats = await runEvnet(["central", "stats", "--data-dir", dataDir]);
    expect(stats.code).toBe(69);
    expect(theLine(stats)).toContain(`is in use by pid ${up.proc.pid}`);
    const migrate = await runEvnet(["migrate", "--data-dir", dataDir]);
    expect(migrate.code).toBe(69);

    const elsewhere = await runEvnet(["up", "--data-dir", join(scratch, "elsewhere"), "--port", String(port), "--cps", "0", "--drivers", "0"], {
      EVNET_LOG_LEVEL: "error",
    });
    expect(elsewhere.code).toBe(69);
    expect(theLine(elsewhere)).toBe(
      `evnet up: cannot listen on 127.0.0.1:${port}: the port is already in use; is evnet already running there? Stop it, or choose another port with API_PORT (--port)`,
    );
    expect(existsSync(join(scratch, "elsewhere", "evnet.lock"))).toBe(false); // released on the way out

    expect(await up.stop()).toBe(0);
    expect(existsSync(join(dataDir, "evnet.lock"))).toBe(false);
    // Once it stopped, the folder is free: its database, with its charging point, is readable.
    const after = await runEvnet(["central", "cps", "--json", "--data-dir", dataDir]);
    expect(after.code).toBe(0);
    const { charging_points } = JSON.parse(after.stdout) as { charging_points: { cp_id: string; price_per_kwh: number; status: string }[] };
    expect(charging_points.map((c) => c.cp_id)).toEqual(["CP_001"]);
    expect(charging_points[0]).toHaveProperty("price_per_kwh"); // the API's names, not the database's
  }, 180_000);

  test("a lock left by a process that is gone is taken over", async () => {
    const dataDir = join(scratch, "stale");
    mkdirSync(dataDir);
    const gone = Bun.spawnSync(["true"]);
    const deadPid = gone.pid;
    writeFileSync(
      join(dataDir, "evnet.lock"),
      JSON.stringify({ pid: deadPid, host: hostname(), command: "evnet up", since: new Date(Date.now() - 3600_000).toISOString() }),
    );
    const run = await runEvnet(["migrate", "--data-dir", dataDir]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^applied \d+ migration\(s\)/);
    expect(existsSync(join(dataDir, "evnet.lock"))).toBe(false);
  }, 60_000);

  test("a lock whose pid now belongs to another process (a reboot) is taken over too", async () => {
    const dataDir = join(scratch, "reused");
    mkdirSync(dataDir);
    // This test's own pid is alive, but it was not running since this start time.
    writeFileSync(
      join(dataDir, "evnet.lock"),
      JSON.stringify({ pid: process.pid, host: hostname(), started: "1", command: "evnet up", since: "2020-01-01T00:00:00Z" }),
    );
    const run = await runEvnet(["migrate", "--data-dir", dataDir]);
    expect(run.code).toBe(0);
    expect(readFileSync(join(dataDir, "pgdata", "PG_VERSION"), "utf8").trim()).toMatch(/^\d+$/);
  }, 60_000);
});
