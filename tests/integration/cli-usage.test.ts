/**
 * The command line as a new user meets it, run as a real process (`bun src/main.ts ...`): the
 * version, help that says where each option comes from and which secrets a role needs, one
 * clear line and exit code 2 for a mistyped command line, 78 for a wrong setting, and roles
 * that refuse to start when they could only talk to themselves.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cac } from "cac";
import pkg from "../../package.json";
import { commandSpec } from "../../src/cli/command.ts";
import { commands } from "../../src/cli/commands.ts";
import { runEvnet } from "../support/processes.ts";

const scratch = mkdtempSync(join(tmpdir(), "evnet-cli-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const cli = cac("evnet");
for (const register of commands) register(cli);
const specs = cli.commands.map((c) => ({ name: c.name, spec: commandSpec(c)! }));

/** What any failed run must look like: one line of its own on stderr (no stack), nothing on stdout. */
function oneLine(run: { stdout: string; stderr: string }): string {
  const lines = run.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.stdout).toBe("");
  return lines[0]!;
}

describe("evnet --version", () => {
  test("prints evnet's version and the Bun it runs on, not Node's compatibility version", async () => {
    const run = await runEvnet(["--version"]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(`evnet/${pkg.version} ${process.platform}-${process.arch} bun-${Bun.version}`);
    expect((await runEvnet(["driver", "-v"])).stdout.trim()).toStartWith(`evnet/${pkg.version} `);
  });
});

describe("a mistyped command line", () => {
  test("an option without a command is refused with exit 2, naming the command it belongs to", async () => {
    const run = await runEvnet(["--cps", "3"]);
    expect(run.code).toBe(2);
    expect(oneLine(run)).toBe("evnet: unknown option --cps (without a command); --cps is an option of 'evnet up': evnet up --cps 3");
  });

  test("an unknown option of a command is refused with exit 2 and where to look", async () => {
    const run = await runEvnet(["driver", "--id", "D1", "--charge", "CP_001"]);
    expect(run.code).toBe(2);
    expect(oneLine(run)).toBe("evnet driver: unknown option --charge; see 'evnet driver --help'");
  });

  test("an unknown command and an option without its value are refused with exit 2", async () => {
    const unknown = await runEvnet(["drivers"]);
    expect(unknown.code).toBe(2);
    expect(oneLine(unknown)).toContain("unknown command 'drivers'");
    const noValue = await runEvnet(["cp-engine", "--port"]);
    expect(noValue.code).toBe(2);
    expect(oneLine(noValue)).toContain("--port <port> value is missing");
  });

  test("a driver with --no-menu and no action says what it needs, exit 2", async () => {
    const run = await runEvnet(["driver", "--id", "D1", "--no-menu"]);
    expect(run.code).toBe(2);
    expect(oneLine(run)).toBe(
      "evnet driver: nothing to do: --no-menu leaves no menu; give an action: --cp <id> (charge once), --file <path> (auto mode), --list or --history",
    );
  });
});

describe("evnet <command> --help", () => {
  test("lists every option with the environment variable it stands for, and its default", async () => {
    for (const { name, spec } of specs) {
      const help = (await runEvnet([name, "--help"])).stdout;
      for (const [variable, setting] of Object.entries(spec.settings)) {
        if (setting.flag && !setting.secret) expect(help).toContain(`env ${variable}`);
        if (!setting.flag && !setting.secret) expect(help).toContain(variable); // under "also read"
      }
    }
    const up = (await runEvnet(["up", "--help"])).stdout;
    expect(up).toMatch(/--cps <n>\s+simulated charging points, spread over a few cities\s+\(env UP_CPS,\s+default: 5\)/);
  });

  test("shows --no-menu as what it does, without a '(default: true)'", async () => {
    const help = (await runEvnet(["driver", "--help"])).stdout;
    expect(help).toMatch(/--no-menu\s+no interactive menu, even on a terminal\n/);
    expect(help).not.toContain("default: true");
  });

  test("lists the secrets each role needs, and which it does not", async () => {
    const secretsOf = async (command: string) => {
      const help = (await runEvnet([command, "--help"])).stdout;
      const section = help.split(/\n(?=\S)/).find((s) => s.startsWith("Secrets"))!;
      return section;
    };
    const api = await secretsOf("api");
    for (const line of [
      /EVNET_MASTER_KEY\s+wraps the CP channel keys .*\[required\]/s,
      /EVNET_OPERATOR_TOKEN\s.*\[required\]/s,
      /EVNET_SERVICE_TOKEN\s.*\[required\]/s,
    ])
      expect(api).toMatch(line);
    expect(api).toMatch(/API_TLS_KEY \(--tls-key\)\s+the server certificate's private key \[optional\]/);
    expect(await secretsOf("central")).toMatch(/EVNET_MASTER_KEY\s.*\[required\]/s);
    const registry = await secretsOf("registry");
    expect(registry).toMatch(/EVNET_ENROLLMENT_TOKEN\s.*\[required\]/s);
    expect(registry).toMatch(/REGISTRY_SIGNING_KEY \(--signing-key\)\s+the Ed25519 private key .*\[default: certs\/registry-signing-key.pem\]/s);
    const weather = await secretsOf("weather");
    expect(weather).toMatch(/EVNET_SERVICE_TOKEN\s.*\[required\]/s);
    expect(weather).toMatch(/OPENWEATHER_API_KEY\s.*\[optional\]/s);
    const monitor = await secretsOf("cp-monitor");
    expect(monitor).toMatch(/EVNET_ENROLLMENT_TOKEN\s.*\[optional\]/s);
    expect(monitor).toMatch(/EVNET_DATA_DIR \(--data-dir\)\s+folder where the CP's credential and channel key are kept/);
    // An engine needs no secret of its own, only a Kafka login where the bus asks for one. A
    // driver has an account: the enrollment token registers it, or an operator gives it a
    // credential; neither is required once its account file is kept.
    const engine = await secretsOf("cp-engine");
    expect(engine).not.toContain("[required]");
    expect(engine.match(/^ {2}[A-Z_]+/gm)).toEqual(["  KAFKA_SASL_PASSWORD", "  KAFKA_SASL_PASSWORD_FILE"]);
    const driver = await secretsOf("driver");
    expect(driver).not.toContain("[required]");
    expect(driver.match(/^ {2}[A-Z_]+/gm)).toEqual(["  EVNET_ENROLLMENT_TOKEN", "  DRIVER_CREDENTIAL", "  KAFKA_SASL_PASSWORD", "  KAFKA_SASL_PASSWORD_FILE"]);
    expect(await secretsOf("migrate")).toContain("none: this role needs no secret");
  });

  test("a shared setting has the same flag in every command that reads it", () => {
    const flags = new Map<string, Set<string>>();
    for (const { spec } of specs)
      for (const [variable, setting] of Object.entries(spec.settings))
        if (setting.flag) flags.set(variable, (flags.get(variable) ?? new Set()).add(setting.flag));
    for (const [variable, seen] of flags) expect({ variable, flags: [...seen] }).toEqual({ variable, flags: [[...seen][0]!] });
    expect([...flags.get("KAFKA_BROKERS")!]).toEqual(["--kafka-brokers <list>"]);
    expect([...flags.get("EVNET_CA_FILE")!]).toEqual(["--ca-file <file>"]);
  });
});

describe("renamed options", () => {
  test("bus-check --brokers still works, with a warning naming the new flag", async () => {
    const run = await runEvnet(["bus-check", "--brokers", "127.0.0.1:1", "--timeout", "5"]);
    expect(run.code).toBe(69);
    expect(run.stderr).toContain("evnet: warning: --brokers is now called --kafka-brokers");
    expect(run.stderr).toContain("Kafka at 127.0.0.1:1");
  }, 30_000);

  test("weather's API_CA_FILE and --api-ca-file still work as EVNET_CA_FILE, with a warning", async () => {
    const missing = join(scratch, "no-ca.pem");
    const env = { EVNET_SERVICE_TOKEN: "service-token-for-cli-tests", API_URL: "https://127.0.0.1:1" };
    for (const [args, extra] of [
      [["weather", "--no-menu"], { API_CA_FILE: missing }],
      [["weather", "--no-menu", "--api-ca-file", missing], {}],
    ] as const) {
      const run = await runEvnet([...args], { ...env, ...extra });
      expect(run.code).toBe(78);
      expect(run.stderr).toMatch(/evnet: warning: (API_CA_FILE is now called EVNET_CA_FILE|--api-ca-file is now called --ca-file)/);
      expect(run.stderr).toContain(`EVNET_CA_FILE: cannot read the CA certificate ${missing}`);
    }
  });
});

describe("settings", () => {
  test("a value is taken as typed: --id 007 is the id 007, not the number 7", async () => {
    const run = await runEvnet(["cp-monitor", "--id", "007", "--details", "--registry-url", "http://127.0.0.1:1", "--api-url", "http://127.0.0.1:1"], {
      EVNET_DATA_DIR: scratch,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^CP id\s+007$/m);
  });

  test("a wrong value names the variable and its flag; a secret's value is never shown", async () => {
    const run = await runEvnet(["api", "--port", "eighty"], { EVNET_MASTER_KEY: "too-short-to-be-a-key", EVNET_OPERATOR_TOKEN: "x" });
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('API_PORT (--port): expected a TCP port number (0-65535) (got "eighty")');
    expect(run.stderr).toContain(
      "EVNET_MASTER_KEY: is required: 64 hex characters, base64 of 32 bytes, or a passphrase of 32+ characters (got a value, not shown)",
    );
    expect(run.stderr).toContain("EVNET_OPERATOR_TOKEN: expected at least 16 characters (got a value, not shown)");
    expect(run.stderr).not.toContain("too-short-to-be-a-key");
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  test("a settings file named by EVNET_ENV_FILE must exist", async () => {
    const run = await runEvnet(["driver", "--id", "D1", "--list"], { EVNET_ENV_FILE: join(scratch, "missing.env") });
    expect(run.code).toBe(78);
    expect(oneLine(run)).toBe(
      `evnet driver: EVNET_ENV_FILE: cannot read the settings file ${join(scratch, "missing.env")}: there is no such file; fix the path, or unset EVNET_ENV_FILE to read .env from the working directory`,
    );
  });

  test("a settings file named by EVNET_ENV_FILE is read", async () => {
    const file = join(scratch, "driver.env");
    writeFileSync(file, "API_URL=http://127.0.0.1:1\nDRIVER_ID=D_FROM_FILE\n");
    const run = await runEvnet(["driver", "--list"], { EVNET_ENV_FILE: file });
    expect(run.code).toBe(69);
    expect(oneLine(run)).toStartWith("evnet driver: cannot reach Central's API at http://127.0.0.1:1: connection refused; is it running");
  });

  test("half a TLS pair is refused, not taken for plain HTTP", async () => {
    const run = await runEvnet(["api", "--tls-cert", "certs/server.pem"], {
      KAFKA_BROKERS: "127.0.0.1:1",
      EVNET_MASTER_KEY: "ab".repeat(32),
      EVNET_OPERATOR_TOKEN: "operator-token-for-cli-tests",
      EVNET_SERVICE_TOKEN: "service-token-for-cli-tests",
    });
    expect(run.code).toBe(78);
    expect(oneLine(run)).toBe(
      "evnet api: API_TLS_CERT (--tls-cert) is given without API_TLS_KEY (--tls-key); give both (HTTPS, with the pair 'evnet certs' makes) or neither (plain HTTP)",
    );
  });
});

describe("options that are switches or secrets", () => {
  test("a setting's switch (--allow-plain) sets it to true", async () => {
    const env = { API_URL: "http://127.0.0.1:8000", EVNET_GATEWAY_TOKEN: "gateway-token-for-cli-tests" };
    const refused = await runEvnet(["ocpp", "--host", "0.0.0.0"], env);
    expect(refused.code).toBe(78);
    expect(oneLine(refused)).toContain("plain ws:// (security profile 1) on 0.0.0.0 (--host) would send chargers' passwords unencrypted");
    const allowed = await runEvnet(["ocpp", "--host", "0.0.0.0", "--allow-plain"], env);
    expect(allowed.code).toBe(78);
    expect(oneLine(allowed)).toContain("Kafka is needed"); // past the check: the next thing it needs
  });

  test("a secret given as an option is taken, with a warning that others can read it, and never echoed", async () => {
    const run = await runEvnet(["ocpp-charger", "--id", "CP_OCPP_01", "--url", "http://not-a-websocket", "--password", "pw-for-cli-tests-0123"]);
    expect(run.code).toBe(78);
    expect(run.stderr).toContain(
      "evnet: warning: --password puts a secret on the command line, where other users of this machine can read it; prefer OCPP_PASSWORD in the environment or .env",
    );
    expect(run.stderr).toContain('OCPP_URL (--url): expected a ws:// or wss:// URL (got "http://not-a-websocket")');
    expect(run.stderr).not.toContain("pw-for-cli-tests-0123");
  });
});

describe("roles that would talk only to themselves", () => {
  const needsKafka = /Kafka is needed .*, and KAFKA_BROKERS \(--kafka-brokers\) is not set; give the brokers/;
  test("refuse to start without Kafka, saying how to give it", async () => {
    const central = await runEvnet(["central", "--no-menu"], { DATABASE_URL: "postgres://evnet:x@127.0.0.1:1/evnet", EVNET_MASTER_KEY: "ab".repeat(32) });
    const engine = await runEvnet(["cp-engine", "--id", "CP_1", "--no-menu"]);
    const driver = await runEvnet(["driver", "--id", "D1", "--cp", "CP_1"]);
    const stop = await runEvnet(["central", "stop", "CP_1"], { EVNET_DATA_DIR: scratch });
    for (const run of [central, engine, driver, stop]) {
      expect(run.code).toBe(78);
      expect(oneLine(run)).toMatch(needsKafka);
    }
    expect(driver.stderr).toContain("Kafka is needed to charge");
  });
});
