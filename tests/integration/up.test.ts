/**
 * `evnet up`, as a new user runs it: the whole network in one process, charging within a
 * minute, stopped with Ctrl-C without losing anything, and started again on the same data.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { makeTestCerts, type TestCerts } from "../support/identity.ts";
import { freePort } from "../support/network-processes.ts";
import { type RoleProcess, spawnRole } from "../support/processes.ts";
import { createTestDatabase, kafkaBrokers, type TestDatabase, testTopicPrefix } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

const dirs: string[] = [];
const running: RoleProcess[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

afterAll(async () => {
  for (const r of running) await r.stop();
  for (const c of cleanups) await c();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "evnet-up-"));
  dirs.push(dir);
  return dir;
}

interface SessionRow {
  session_id: string;
  status: string;
  energy_kwh: number;
  cost_eur: number;
}

async function startUp(dataDir: string, port: number, env: Record<string, string> = {}, extra: string[] = [], chargeSeconds = 4): Promise<RoleProcess> {
  const up = spawnRole(
    "up",
    ["up", "--data-dir", dataDir, "--port", String(port), "--cps", "3", "--drivers", "2", "--charge-seconds", String(chargeSeconds), ...extra],
    {
      UP_PAUSE_SECONDS: "1",
      ...env,
    },
  );
  running.push(up);
  await up.waitForLine(/network up/, 90_000);
  return up;
}

async function sessions(base: string, fetcher: (url: string) => Promise<Response> = fetch): Promise<SessionRow[]> {
  const res = await fetcher(`${base}/ev/central/sessions?limit=200`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { sessions: SessionRow[] }).sessions;
}

function errorLines(role: RoleProcess): string[] {
  return role.lines.filter((l) => / ERROR /.test(l));
}

describe("evnet up on embedded defaults", () => {
  const dataDir = tempDir();
  let port = 0;
  let firstRunSessions: SessionRow[] = [];

  test("brings up the network and the dashboard shows charging within a minute", async () => {
    port = await freePort();
    const up = await startUp(dataDir, port);
    const base = `http://127.0.0.1:${port}`;
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<html");
    await waitFor(async () => (await sessions(base)).some((s) => s.status === "FINISHED" && s.energy_kwh > 0), "a finished charge with energy", {
      timeoutMs: 60_000,
    });
    const cps = (await (await fetch(`${base}/ev/central/charging-points`)).json()) as { charging_points: { cp_id: string; status: string }[] };
    expect(cps.charging_points.map((c) => c.cp_id).sort()).toEqual(["CP_001", "CP_002", "CP_003"]);
    for (const cp of cps.charging_points) expect(["ACTIVE", "SUPPLYING"]).toContain(cp.status);
    firstRunSessions = (await sessions(base)).filter((s) => s.status === "FINISHED");
    expect(errorLines(up)).toEqual([]);
    // How to sign in, and the token it names works (not a terminal here: it says where the token is).
    await up.waitForLine(/Operator sign-in/, 10_000);
    const said = up.lines.find((l) => l.includes("Operator sign-in"))!;
    expect(said).toContain(`"operatorToken" in ${dataDir}/secrets.json`);
    const { operatorToken } = JSON.parse(readFileSync(join(dataDir, "secrets.json"), "utf8")) as { operatorToken: string };
    const signIn = await fetch(`${base}/ev/central/operator/sign-in`, { method: "POST", headers: { authorization: `Bearer ${operatorToken}` } });
    expect(signIn.status).toBe(200);
    // Ctrl-C: drivers stop their charges (tickets), every role stops, exit code 0.
    expect(await up.stop()).toBe(0);
    expect(up.lines.some((l) => /\[up\] stopped/.test(l))).toBe(true);
    expect(errorLines(up)).toEqual([]);
  }, 180_000);

  test("a second run on the same data folder shows the earlier sessions and charges again", async () => {
    const up = await startUp(dataDir, port);
    const base = `http://127.0.0.1:${port}`;
    const now = await sessions(base);
    for (const s of firstRunSessions) {
      const again = now.find((n) => n.session_id === s.session_id);
      expect(again?.status).toBe("FINISHED");
      expect(again?.energy_kwh).toBe(s.energy_kwh);
    }
    // The CPs kept their registration and authenticate again; new charges happen.
    await waitFor(async () => (await sessions(base)).filter((s) => s.status === "FINISHED").length > firstRunSessions.length, "a new finished charge", {
      timeoutMs: 60_000,
    });
    expect(await up.stop()).toBe(0);
    expect(errorLines(up)).toEqual([]);
  }, 180_000);

  test("killed mid-charge and started again, it closes the sessions the chargers no longer have, with what they metered", async () => {
    const base = `http://127.0.0.1:${port}`;
    const up = await startUp(dataDir, port, {}, [], 600);
    let cut: SessionRow | undefined;
    await waitFor(
      async () => {
        cut = (await sessions(base)).find((s) => s.status === "IN_PROGRESS" && s.energy_kwh > 0);
        return cut !== undefined;
      },
      "a charge in progress",
      { timeoutMs: 60_000 },
    );
    up.proc.kill("SIGKILL");
    await up.proc.exited;
    const again = await startUp(dataDir, port);
    // Nothing of the first run can still be in progress: no CP stays SUPPLYING, no driver busy for good.
    await waitFor(async () => (await sessions(base)).find((s) => s.session_id === cut!.session_id)?.status === "FINISHED", "the cut session closed", {
      timeoutMs: 60_000,
    });
    const closed = (await sessions(base)).find((s) => s.session_id === cut!.session_id)!;
    expect(closed.energy_kwh).toBeGreaterThanOrEqual(cut!.energy_kwh);
    const before = (await sessions(base)).filter((s) => s.status === "FINISHED").length;
    await waitFor(async () => (await sessions(base)).filter((s) => s.status === "FINISHED").length > before, "charging again", { timeoutMs: 60_000 });
    expect(await again.stop()).toBe(0);
    expect(errorLines(again)).toEqual([]);
  }, 240_000);
});

describe("evnet up with DATABASE_URL and KAFKA_BROKERS", () => {
  let database: TestDatabase;

  test("uses the given PostgreSQL and Kafka instead of the embedded ones", async () => {
    database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const port = await freePort();
    const prefix = testTopicPrefix();
    const up = await startUp(tempDir(), port, { DATABASE_URL: database.url, KAFKA_BROKERS: kafkaBrokers().join(","), EVNET_TOPIC_PREFIX: prefix });
    expect(up.lines.some((l) => /bus ready kind=kafka/.test(l))).toBe(true);
    expect(up.lines.some((l) => /database ready kind=postgres/.test(l))).toBe(true);
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    cleanups.unshift(() => sql.end());
    await waitFor(
      async () => {
        const rows = await sql`select count(*)::int as n from charging_sessions where status = 'FINISHED' and energy_kwh > 0`;
        return rows[0]!.n > 0;
      },
      "a finished session in PostgreSQL",
      { timeoutMs: 90_000 },
    );
    expect(await up.stop()).toBe(0);
    expect(errorLines(up)).toEqual([]);
  }, 180_000);
});

describe("evnet up with certificates", () => {
  let certs: TestCerts;

  test("serves the dashboard over HTTPS, trusted through the local CA, on every interface when asked", async () => {
    certs = await makeTestCerts();
    cleanups.push(() => certs.remove());
    const port = await freePort();
    const up = await startUp(tempDir(), port, { API_TLS_CERT: certs.certFile, API_TLS_KEY: certs.keyFile, EVNET_CA_FILE: certs.caFile }, ["--host", "0.0.0.0"]);
    expect(await up.waitForLine(/Dashboard: /)).toMatch(new RegExp(`Dashboard: https://127\\.0\\.0\\.1:${port}/ \\(listening on every interface`));
    const base = `https://127.0.0.1:${port}`;
    expect((await certs.fetch(`${base}/`)).status).toBe(200);
    await expect(fetch(`${base}/`)).rejects.toThrow();
    await waitFor(async () => (await sessions(base, certs.fetch)).some((s) => s.status === "FINISHED" && s.energy_kwh > 0), "a finished charge over HTTPS", {
      timeoutMs: 60_000,
    });
    expect(await up.stop()).toBe(0);
    expect(errorLines(up)).toEqual([]);
  }, 180_000);
});
