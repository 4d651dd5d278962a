/**
 * `evnet up` plus another terminal, as a new user tries it: up prints how to join it; on Kafka
 * the printed commands (with the join.env it writes) really join it, a charging point and a
 * driver from outside charging there; on its in-process bus other terminals can read through
 * the API and are told why they cannot charge. The driver finds the CA `evnet certs` made and
 * hints at the usual HTTPS mistakes. Ticket times are shown in the user's time zone.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Fetch } from "../../src/http/tls-client.ts";
import { makeTestCerts, type TestCerts } from "../support/identity.ts";
import { freePort } from "../support/network-processes.ts";
import { type RoleProcess, runEvnet, spawnRole } from "../support/processes.ts";
import { kafkaBrokers, testTopicPrefix } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

const root = mkdtempSync(join(tmpdir(), "evnet-join-"));
const running: RoleProcess[] = [];
const cleanups: (() => void)[] = [];

afterAll(async () => {
  for (const role of running.reverse()) await role.stop();
  for (const cleanup of cleanups) cleanup();
  rmSync(root, { recursive: true, force: true });
});

function start(name: string, args: string[], env: Record<string, string> = {}, cwd?: string): RoleProcess {
  const role = spawnRole(name, args, env, { cwd });
  running.push(role);
  return role;
}

/** The commands up printed for other terminals, as argument lists after `npx evnet`. */
function printedCommands(up: RoleProcess): string[][] {
  return up.lines.filter((l) => /^ {4}npx evnet /.test(l)).map((l) => l.trim().split(/\s+/).slice(2));
}

async function cpStatus(apiUrl: string, cpId: string, fetcher: Fetch = fetch): Promise<string | undefined> {
  const res = await fetcher(`${apiUrl}/ev/central/charging-points/${cpId}`);
  return res.ok ? ((await res.json()) as { charging_point: { status: string } }).charging_point.status : undefined;
}

/** A time as `localTime` shows it, for a zone `offsetMinutes` east of UTC. */
function shownAt(iso: string, offsetMinutes: number): string {
  const d = new Date(Date.parse(iso) + offsetMinutes * 60_000);
  return d.toISOString().slice(0, 19).replace("T", " ");
}

describe("evnet up on its in-process bus", () => {
  test("tells other terminals they can read, and how to run it so they can charge", async () => {
    const dataDir = join(root, "local");
    const port = await freePort();
    const up = start("up", ["up", "--data-dir", dataDir, "--port", String(port), "--cps", "2", "--drivers", "0"]);
    await up.waitForLine(/Ctrl-C stops everything/, 90_000);
    const api = `http://127.0.0.1:${port}`;
    const readLine = up.lines.find((l) => l.includes("Other terminals can read it:"))!;
    expect(readLine.trim()).toBe(`Other terminals can read it: npx evnet driver --id D1 --list --api-url ${api}`);
    expect(up.lines.some((l) => l.includes("To charge from other terminals too, run it on Kafka: npx evnet up --kafka-brokers host:port"))).toBe(true);

    await waitFor(async () => (await cpStatus(api, "CP_002")) === "ACTIVE", "the simulated CPs to be ACTIVE", { timeoutMs: 60_000 });
    const list = await runEvnet(readLine.split("npx evnet ")[1]!.split(" "));
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^CP_001\s+Madrid\s+0\.30 €\/kWh$/m);

    // The driver's default API address is where up listens by default: plain HTTP. Asked for
    // HTTPS against it, the driver says what is probably wrong.
    const https = await runEvnet(["driver", "--id", "D77", "--list", "--api-url", `https://127.0.0.1:${port}`]);
    expect(https.code).toBe(69);
    expect(https.stderr.trim()).toBe(
      `evnet driver: cannot reach Central's API at https://127.0.0.1:${port}: EPROTO: The TLS handshake failed. Does the server speak TLS on this port?; does it serve plain HTTP? (evnet up and evnet api do unless given --tls-cert) Then use ${api}`,
    );
    const charge = await runEvnet(["driver", "--id", "D77", "--cp", "CP_001", "--api-url", api]);
    expect(charge.code).toBe(78);
    expect(charge.stderr).toContain("Kafka is needed to charge");
    expect(() => statSync(join(dataDir, "join.env"))).toThrow();
    expect(await up.stop()).toBe(0);
  }, 180_000);
});

describe("evnet up on Kafka, with certificates", () => {
  let certs: TestCerts;

  test("prints commands that join it: a charging point and a driver from other terminals charge there", async () => {
    certs = await makeTestCerts();
    cleanups.push(() => certs.remove());
    const dataDir = join(root, "shared");
    const port = await freePort();
    const prefix = testTopicPrefix();
    const up = start("up", [
      "up",
      ...["--data-dir", dataDir, "--port", String(port), "--cps", "1", "--drivers", "0"],
      ...["--kafka-brokers", kafkaBrokers().join(","), "--topic-prefix", prefix],
      ...["--tls-cert", certs.certFile, "--tls-key", certs.keyFile, "--ca-file", certs.caFile],
    ]);
    await up.waitForLine(/Ctrl-C stops everything/, 90_000);
    const api = `https://127.0.0.1:${port}`;
    const joinFile = join(dataDir, "join.env");
    expect(up.lines).toContain(`    export EVNET_ENV_FILE=${joinFile}`);
    expect(printedCommands(up)).toEqual([
      ["driver", "--id", "D1"],
      ["cp-engine", "--id", "CP_002"],
      ["cp-monitor", "--id", "CP_002", "--location", "Barcelona", "--register", "--authenticate"],
    ]);

    expect(statSync(joinFile).mode & 0o777).toBe(0o600);
    const settings = Object.fromEntries(
      readFileSync(joinFile, "utf8")
        .split("\n")
        .filter((l) => /^[A-Z]/.test(l))
        .map((l) => l.split(/=(.*)/).slice(0, 2)),
    );
    const secrets = JSON.parse(readFileSync(join(dataDir, "secrets.json"), "utf8")) as { enrollmentToken: string };
    expect(settings).toMatchObject({
      API_URL: api,
      KAFKA_BROKERS: kafkaBrokers().join(","),
      EVNET_TOPIC_PREFIX: prefix,
      EVNET_CA_FILE: certs.caFile,
      EVNET_ENROLLMENT_TOKEN: secrets.enrollmentToken,
    });
    expect(settings.REGISTRY_URL).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    // The printed commands, from another folder, with join.env (and a free port for the engine).
    const elsewhere = join(root, "another-terminal");
    mkdirSync(elsewhere);
    const joined = { EVNET_ENV_FILE: joinFile };
    const [, engineArgs, monitorArgs] = printedCommands(up);
    const enginePort = String(await freePort());
    // In the order printed: the engine, once it listens, then its monitor. Authenticated, the CP
    // is ACTIVE before the monitor's first health check; ready to charge once that check is OK.
    const engine = start("joined engine", [...engineArgs!, "--port", enginePort], joined, elsewhere);
    await engine.waitForLine(/engine listening/, 60_000);
    const monitor = start("joined monitor", [...monitorArgs!, "--engine", `127.0.0.1:${enginePort}`], joined, elsewhere);
    await monitor.waitForLine(/engine OK/, 90_000);
    await waitFor(async () => (await cpStatus(api, "CP_002", certs.fetch)) === "ACTIVE", "the joined CP to be ACTIVE", { timeoutMs: 90_000 });

    const driver = await runEvnet(["driver", "--id", "D1", "--cp", "CP_002", "--charge-seconds", "2", "--json"], joined, { cwd: elsewhere });
    expect({ code: driver.code, stdout: driver.stdout, stderr: driver.stderr }).toMatchObject({ code: 0 }); // shows what it said otherwise
    const ticket = JSON.parse(driver.stdout.trim().split("\n").at(-1)!);
    expect(ticket).toMatchObject({ type: "ticket", cp_id: "CP_002", driver_id: "D1" });

    // Ticket times in the menus and lists are the user's local time, not raw UTC strings.
    const history = await runEvnet(["driver", "--id", "D1", "--history"], { ...joined, TZ: "Asia/Kolkata" }, { cwd: elsewhere });
    expect(history.code).toBe(0);
    expect(history.stdout).toContain(`${shownAt(ticket.started_at, 330)}  CP_002`);
    expect(history.stdout).not.toContain(ticket.started_at.slice(0, 19).replace("T", " "));

    // The driver trusts certs/ca.pem where `evnet certs` puts it, and hints at the CA otherwise.
    const withCerts = join(root, "with-certs");
    mkdirSync(join(withCerts, "certs"), { recursive: true });
    copyFileSync(certs.caFile, join(withCerts, "certs", "ca.pem"));
    const found = await runEvnet(["driver", "--id", "D1", "--list", "--api-url", api], {}, { cwd: withCerts });
    expect(found.stderr).toBe("");
    expect(found.stdout).toMatch(/^CP_001\s/m);
    const untrusted = await runEvnet(["driver", "--id", "D1", "--list", "--api-url", api], {}, { cwd: elsewhere });
    expect(untrusted.code).toBe(69);
    expect(untrusted.stderr.trim()).toBe(
      `evnet driver: cannot reach Central's API at ${api}: unable to verify the first certificate; trust the CA that signed its certificate: EVNET_CA_FILE (--ca-file), the ca.pem of 'evnet certs'`,
    );
    expect(await up.stop()).toBe(0);
    expect(() => statSync(joinFile)).toThrow(); // it describes a network that no longer runs
  }, 300_000);
});
