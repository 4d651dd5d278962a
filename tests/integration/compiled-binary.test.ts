/**
 * The compiled executable works on its own: built once per run with scripts/build.ts, copied
 * to a folder with no node_modules, run with no Bun on the PATH. It must open the embedded
 * database (PGlite files inside the binary), apply the embedded migrations, make certificates
 * without openssl, and talk to Kafka (the client's wasm inside the binary).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import pkg from "../../package.json";
import { serve } from "../../src/http/serve.ts";
import { tlsFetch } from "../../src/http/tls-client.ts";
import { compiledBinaryIn } from "../support/binary.ts";
import { createTestDatabase, kafkaBrokers, type TestDatabase, testTopicPrefix } from "../support/services.ts";

const root = mkdtempSync(join(tmpdir(), "evnet-binary-"));
const runDir = join(root, "elsewhere");
const binary = join(runDir, "evnet");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the copied binary in its own folder with a bare environment (no Bun, no test settings). */
function evnet(args: string[], env: Record<string, string> = {}): Run {
  const result = Bun.spawnSync([binary, ...args], {
    cwd: runDir,
    env: { PATH: "/usr/bin:/bin", HOME: root, EVNET_LOG_LEVEL: "warn", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: result.exitCode ?? -1, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

beforeAll(async () => {
  await compiledBinaryIn(runDir);
}, 300_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("the compiled evnet binary, run from a folder without node_modules", () => {
  test("has no node_modules or Bun to lean on", () => {
    expect(existsSync(join(runDir, "node_modules"))).toBe(false);
    expect(Bun.spawnSync(["sh", "-c", "command -v bun"], { env: { PATH: "/usr/bin:/bin" } }).exitCode).not.toBe(0);
  });

  test("prints its version and its help listing every command", () => {
    const version = evnet(["--version"]);
    expect(version.code).toBe(0);
    // evnet's version and the Bun it was built with, not the Node version Bun emulates.
    expect(version.stdout.trim()).toBe(`evnet/${pkg.version} ${process.platform}-${process.arch} bun-${Bun.version}`);
    const help = evnet(["--help"]);
    expect(help.code).toBe(0);
    for (const command of [
      "up",
      "central",
      "registry",
      "api",
      "weather",
      "cp-engine",
      "cp-monitor",
      "ocpp",
      "ocpp-charger",
      "driver",
      "migrate",
      "certs",
      "bus-check",
    ])
      expect(help.stdout).toMatch(new RegExp(`^\\s+${command}\\s`, "m"));
  });

  test("migrates an embedded database in a data folder, then finds it up to date", () => {
    const dataDir = join(root, "data");
    const first = evnet(["migrate", "--data-dir", dataDir]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied \d+ migration\(s\) to .*pgdata: 0000_init/);
    const second = evnet(["migrate", "--data-dir", dataDir]);
    expect(second.stdout).toContain("is up to date");
  }, 60_000);

  describe("against the real PostgreSQL", () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase();
    });
    afterAll(() => database.drop());

    test("migrates it through DATABASE_URL, hiding the password in what it prints", () => {
      const run = evnet(["migrate"], { DATABASE_URL: database.url });
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^applied \d+ migration\(s\) to postgres:\/\/evnet:\*\*\*@/);
    }, 30_000);
  });

  test("makes certificates that an HTTPS server uses and a client verifies with the CA", async () => {
    const run = evnet(["certs", "--dir", "certs", "--hosts", "evnet.test"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("server certificate valid for: localhost, 127.0.0.1, ::1, evnet.test");
    expect(statSync(join(runDir, "certs", "server-key.pem")).mode & 0o777).toBe(0o600);
    const server = serve(
      new Hono().get("/", (c) => c.text("trusted")),
      {
        hostname: "127.0.0.1",
        port: 0,
        tls: { certFile: join(runDir, "certs", "server.pem"), keyFile: join(runDir, "certs", "server-key.pem") },
      },
    );
    try {
      expect(await (await tlsFetch(join(runDir, "certs", "ca.pem"))(server.url)).text()).toBe("trusted");
    } finally {
      await server.stop();
    }
  }, 30_000);

  test("round-trips a message through Kafka with bus-check, taking the brokers from .env", () => {
    writeFileSync(join(runDir, ".env"), `KAFKA_BROKERS=${kafkaBrokers().join(",")}\nEVNET_TOPIC_PREFIX=${testTopicPrefix()}\n`);
    try {
      const run = evnet(["bus-check"]);
      // Nothing on stderr but the one notice that this loopback broker is plaintext.
      const lines = run.stderr.split("\n").filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain("without TLS or SASL: fine for development on this machine only");
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/Kafka at .* works: a message on .*\.bus-check came back in \d+ ms/);
    } finally {
      rmSync(join(runDir, ".env"));
    }
  }, 60_000);

  test("bus-check says which broker it could not reach and exits with EX_UNAVAILABLE", () => {
    const run = evnet(["bus-check", "--kafka-brokers", "127.0.0.1:1"]);
    expect(run.code).toBe(69);
    expect(run.stderr).toContain("Kafka at 127.0.0.1:1 failed");
  }, 30_000);

  test("runs the OCPP gateway and simulated OCPP 1.6 and 2.0.1 chargers (ocpp-rpc and its schemas inside the binary)", async () => {
    const proc = Bun.spawn(
      [binary, "up", "--data-dir", "up-ocpp", "--port", "0", "--ocpp-port", "0", "--cps", "0", "--ocpp-cps", "2", "--drivers", "2", "--charge-seconds", "3"],
      {
        cwd: runDir,
        env: { PATH: "/usr/bin:/bin", HOME: root, EVNET_LOG_LEVEL: "info", UP_PAUSE_SECONDS: "1" },
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    let out = "";
    const read = async (stream: ReadableStream<Uint8Array>) => {
      const reader = stream.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) out += new TextDecoder().decode(r.value);
    };
    void read(proc.stdout);
    void read(proc.stderr);
    try {
      const deadline = Date.now() + 90_000;
      const tickets = () => new Set([...out.matchAll(/ticket cp_id=(OCPP_00\d)/g)].map((m) => m[1]));
      while (tickets().size < 2 && Date.now() < deadline) await Bun.sleep(250);
      expect([...tickets()].sort()).toEqual(["OCPP_001", "OCPP_002"]);
      expect(out).toContain("subprotocol=ocpp1.6");
      expect(out).toContain("subprotocol=ocpp2.0.1");
      expect(out).not.toMatch(/ ERROR /);
    } finally {
      proc.kill("SIGINT");
      await proc.exited;
    }
  }, 120_000);

  test("says what is wrong with a command line in one line, with exit code 2", () => {
    const stray = evnet(["--cps", "3"]);
    expect(stray.code).toBe(2);
    expect(stray.stdout).toBe("");
    expect(stray.stderr.trim()).toBe("evnet: unknown option --cps (without a command); --cps is an option of 'evnet up': evnet up --cps 3");
    const idle = evnet(["driver", "--id", "D1", "--no-menu"]);
    expect(idle.code).toBe(2);
    expect(idle.stderr).toContain("evnet driver: nothing to do");
  });

  test("reports ordinary mistakes in one line with their exit code, never a stack", () => {
    const database = evnet(["migrate", "--database-url", "postgres://evnet:secret@127.0.0.1:1/evnet"]);
    expect(database.code).toBe(69);
    expect(database.stderr.trim()).toBe(
      "evnet migrate: cannot use PostgreSQL at postgres://evnet:***@127.0.0.1:1/evnet: connection refused; is PostgreSQL running there? Check DATABASE_URL (--database-url)",
    );
    const noDatabase = evnet(["central", "stats", "--data-dir", join(root, "no-network-here")]);
    expect(noDatabase.code).toBe(66);
    expect(noDatabase.stderr.trim()).toStartWith(`evnet central: there is no embedded database in ${join(root, "no-network-here")}`);
    const envFile = evnet(["migrate"], { EVNET_ENV_FILE: join(root, "typo.env") });
    expect(envFile.code).toBe(78);
    expect(envFile.stderr.trim()).toStartWith(`evnet migrate: EVNET_ENV_FILE: cannot read the settings file ${join(root, "typo.env")}`);
    for (const run of [database, noDatabase, envFile]) expect(run.stderr).not.toMatch(/^\s+at |unexpected error/m);
  });
});
