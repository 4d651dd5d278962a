/**
 * The network from the compiled binary alone, as an operator deploys it: every role a
 * separate process of `evnet` run from a folder with no repo, no node_modules and no Bun,
 * over HTTPS with certificates the binary made, against the real PostgreSQL and Kafka.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tlsFetch } from "../../src/http/tls-client.ts";
import { compiledBinaryIn } from "../support/binary.ts";
import { freePort } from "../support/network-processes.ts";
import { type RoleProcess, spawnRole } from "../support/processes.ts";
import { createTestDatabase, kafkaBrokers, type TestDatabase, testTopicPrefix } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

const root = mkdtempSync(join(tmpdir(), "evnet-binnet-"));
const roles: RoleProcess[] = [];
let binary = "";
let database: TestDatabase;

const TOKENS = {
  EVNET_OPERATOR_TOKEN: "operator-token-for-binary-test",
  EVNET_SERVICE_TOKEN: "service-token-for-binary-test",
  EVNET_ENROLLMENT_TOKEN: "enrollment-token-for-binary-test",
};

function role(name: string, args: string[], env: Record<string, string>): RoleProcess {
  const r = spawnRole(name, args, { PATH: "/usr/bin:/bin", HOME: root, ...env }, { command: [binary], cwd: root });
  roles.push(r);
  return r;
}

const urlIn = (line: string) => /url=(\S+)/.exec(line)![1]!;

beforeAll(async () => {
  binary = await compiledBinaryIn(root);
  database = await createTestDatabase();
}, 300_000);

afterAll(async () => {
  for (const r of roles.reverse()) await r.stop();
  await database?.drop();
  rmSync(root, { recursive: true, force: true });
});

describe("the network run from the compiled binary as separate processes", () => {
  test("registers, authenticates, charges and bills a session end to end", async () => {
    const certs = Bun.spawnSync([binary, "certs", "--dir", "certs"], { cwd: root, env: { PATH: "/usr/bin:/bin", HOME: root } });
    expect(certs.exitCode).toBe(0);
    const bus = { KAFKA_BROKERS: kafkaBrokers().join(","), EVNET_TOPIC_PREFIX: testTopicPrefix() };
    const masterKey = "ab".repeat(32);

    const registry = role("registry", ["registry"], { ...TOKENS, DATABASE_URL: database.url, REGISTRY_PORT: "0" });
    const registryUrl = urlIn(await registry.waitForLine(/listening/, 60_000));
    const api = role("api", ["api"], {
      ...TOKENS,
      ...bus,
      DATABASE_URL: database.url,
      API_PORT: "0",
      API_TLS_CERT: "certs/server.pem",
      API_TLS_KEY: "certs/server-key.pem",
      REGISTRY_PUBLIC_KEY: "certs/registry-signing-public.pem",
      REGISTRY_URL: registryUrl,
      EVNET_MASTER_KEY: masterKey,
    });
    const apiUrl = urlIn(await api.waitForLine(/listening/, 60_000));
    expect(apiUrl).toStartWith("https://");
    const central = role("central", ["central", "--no-menu"], {
      ...bus,
      DATABASE_URL: database.url,
      EVNET_MASTER_KEY: masterKey,
      MONITOR_TO_CENTRAL_HEARTBEAT_INTERVAL: "1",
    });
    await central.waitForLine(/central ready/, 60_000);
    // the opening thread's code is in the binary too: Central opened its check message there
    expect(central.lines.filter((line) => /opening thread/.test(line)).map((line) => line.replace(/^\S+ /, ""))).toEqual([
      "INFO  [central] opening thread ready",
    ]);

    const port = await freePort();
    const engine = role("engine", ["cp-engine", "--no-menu", "--id", "CP_BIN", "--port", String(port)], bus);
    await engine.waitForLine(/engine listening/, 60_000);
    const monitor = role(
      "monitor",
      ["cp-monitor", "--no-menu", "--id", "CP_BIN", "--location", "Madrid", "--engine", `127.0.0.1:${port}`, "--register", "--authenticate"],
      {
        ...bus,
        REGISTRY_URL: registryUrl,
        API_URL: apiUrl,
        EVNET_CA_FILE: "certs/ca.pem",
        EVNET_ENROLLMENT_TOKEN: TOKENS.EVNET_ENROLLMENT_TOKEN,
        EVNET_DATA_DIR: "cp-data",
        MONITOR_TO_CENTRAL_HEARTBEAT_INTERVAL: "1",
      },
    );
    await monitor.waitForLine(/monitor supervising/, 60_000);
    const trusted = tlsFetch(join(root, "certs", "ca.pem"));
    await waitFor(
      async () => {
        const res = await trusted(`${apiUrl}/ev/central/charging-points/CP_BIN`);
        return res.status === 200 && ((await res.json()) as { charging_point: { status: string } }).charging_point.status === "ACTIVE";
      },
      "CP_BIN ACTIVE",
      { timeoutMs: 60_000 },
    );

    writeFileSync(join(root, "cps.txt"), "CP_BIN\n");
    const driver = role("driver", ["driver", "--id", "D_BIN", "--file", "cps.txt", "--charge-seconds", "3", "--json"], {
      ...bus,
      API_URL: apiUrl,
      EVNET_CA_FILE: "certs/ca.pem",
      // A driver has an account: its first run registers it with the enrollment token.
      EVNET_ENROLLMENT_TOKEN: TOKENS.EVNET_ENROLLMENT_TOKEN,
      EVNET_DATA_DIR: "driver-data",
    });
    expect(await driver.proc.exited).toBe(0);
    const tickets = driver.lines
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l))
      .filter((o) => o.type === "ticket");
    expect(tickets).toHaveLength(1);
    expect(tickets[0].cp_id).toBe("CP_BIN");
    expect(tickets[0].energy_kwh).toBeGreaterThan(0);
    expect(tickets[0].cost_eur).toBeCloseTo(tickets[0].energy_kwh * tickets[0].price_per_kwh, 2);
    const session = (await (await trusted(`${apiUrl}/ev/central/sessions/${tickets[0].session_id}`)).json()) as {
      session: { status: string; energy_kwh: number };
    };
    expect(session.session.status).toBe("FINISHED");
    expect(session.session.energy_kwh).toBeCloseTo(tickets[0].energy_kwh, 6);
  }, 300_000);
});
