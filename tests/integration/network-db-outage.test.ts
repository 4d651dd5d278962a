/**
 * PostgreSQL crashes mid-session and comes back (a cluster of this test's own, so no other test is
 * disturbed), every role its own OS process over it and the real Kafka. While it is away every
 * HTTP route answers 503 (never 500); drivers' stops reach the chargers and are sent again until
 * Central can decide them, which it does once each; an engine restarted meanwhile loses its
 * session. Once it is back the API and Central answer again within moments, and every ticket is
 * what the engine metered. Central reaches the database through its Unix-domain socket, the
 * other roles through TCP: a stopped server takes its socket with it, and Central waits for it
 * as for a refused connection.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { tlsFetch } from "../../src/http/tls-client.ts";
import { callJson, OPERATOR_TOKEN } from "../support/identity.ts";
import { formatAudit, mismatches } from "../support/meter-audit.ts";
import { type ChargingPointProcesses, jsonLines, TestNetwork } from "../support/network-processes.ts";
import { OwnPostgres } from "../support/own-postgres.ts";
import type { RoleProcess } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

const pg = new OwnPostgres();
let net: TestNetwork;
const cps: Record<string, ChargingPointProcesses> = {};
const CP_IDS = ["CP_D1", "CP_D2", "CP_D3"];

beforeAll(async () => {
  await pg.up();
  net = new TestNetwork({ database: { url: pg.url, name: "evnet", drop: async () => {} } });
  await net.start();
  await net.startCentral("central-d", { DATABASE_URL: `${pg.url}?host=${encodeURIComponent(pg.socketDir)}` });
  for (const id of CP_IDS) cps[id] = await net.startCp(id, "Toledo");
}, 300_000);

afterAll(async () => {
  await net?.stop();
  await pg.remove();
}, 90_000);

/** Every operation the API documents, with its path's parameters filled in. */
async function documentedOperations(fetchFn: ReturnType<typeof tlsFetch>): Promise<{ method: string; path: string }[]> {
  const doc = await callJson(fetchFn, "GET", `${net.apiUrl}/openapi.json`);
  expect(doc.status).toBe(200);
  const fill: Record<string, string> = { cp_id: "CP_D1", session_id: "S-none", driver_id: "D_O1", city: "Toledo" };
  const out: { method: string; path: string }[] = [];
  for (const [path, ops] of Object.entries(doc.body.paths as Record<string, Record<string, unknown>>))
    for (const method of Object.keys(ops)) out.push({ method: method.toUpperCase(), path: path.replace(/\{(\w+)\}/g, (_, name) => fill[name] ?? "x") });
  return out;
}

describe("PostgreSQL crashes mid-session", () => {
  test("every route answers 503 while it is away, the network answers again once it is back, and every ticket is the meter", async () => {
    const fetchFn = tlsFetch(net.certs.caFile);
    const operations = (await documentedOperations(fetchFn)).filter((o) => !o.path.endsWith("/events/stream")); // a stream does not end
    expect(operations.length).toBeGreaterThan(15);
    const stopping: RoleProcess[] = ["CP_D1", "CP_D2"].map((cp, i) => net.driver(`D_O${i + 1}`, ["--cp", cp, "--charge-seconds", "10"]));
    const lost = net.driver("D_O3", ["--cp", "CP_D3", "--charge-seconds", "600"]);
    const sessions = await Promise.all(CP_IDS.map((id) => net.billingSessionAt(id)));
    const centralConnections = await net.sql`select host(client_addr) as addr from pg_stat_activity where application_name = 'evnet central'`;
    expect(centralConnections.length).toBeGreaterThan(0);
    expect(centralConnections.every((c) => c.addr === null)).toBe(true); // through the socket

    await pg.down(true);
    const downAt = Date.now();
    const answers: { op: string; status: number }[] = [];
    for (const o of operations) {
      const reply = await callJson(fetchFn, o.method, `${net.apiUrl}${o.path}`, { token: OPERATOR_TOKEN, body: o.method === "GET" ? undefined : {} });
      answers.push({ op: `${o.method} ${o.path}`, status: reply.status });
    }
    const registry = await callJson(fetchFn, "GET", `${net.registryUrl}/ev/registry/charging-points/CP_D1`);
    answers.push({ op: "registry GET /ev/registry/charging-points/CP_D1", status: registry.status });
    // An engine restarted while the database is away: its session is gone when Central can look.
    const cp3 = cps.CP_D3!;
    cp3.engine.proc.kill("SIGKILL");
    await cp3.engine.proc.exited;
    cp3.engine = await net.startEngine("CP_D3", cp3.port);
    // The stops are sent (and sent again) while the database is away; the chargers hear them.
    for (const cp of ["CP_D1", "CP_D2"]) await cps[cp]!.engine.waitForLine(/the driver asked to stop/, 30_000);
    await Bun.sleep(Math.max(0, 12_000 - (Date.now() - downAt)));

    console.log(answers.map((a) => `${a.status} ${a.op}`).join("\n"));
    expect(answers.filter((a) => a.status >= 500 && a.status !== 503)).toEqual([]);
    for (const read of [
      "/ev/central/charging-points",
      "/ev/central/charging-points/CP_D1/key-status",
      "/ev/central/sessions",
      "/ev/central/drivers",
      "/ev/central/audit-events",
    ])
      expect(answers.find((a) => a.op === `GET ${read}`)?.status).toBe(503);
    expect(registry.status).toBe(503);

    await pg.up();
    const upAt = Date.now();
    await waitFor(async () => (await callJson(fetchFn, "GET", `${net.apiUrl}/ev/central/charging-points`)).status === 200, "the API answering again", {
      timeoutMs: 30_000,
      everyMs: 100,
    });
    console.log(`the API answered again ${Date.now() - upAt} ms after PostgreSQL was back (it was away ${upAt - downAt} ms)`);

    for (const [i, d] of stopping.entries()) {
      expect(await d.proc.exited).toBe(0);
      expect(jsonLines(d)[0]).toMatchObject({ type: "ticket", session_id: sessions[i], end_reason: "driver_stop" });
    }
    expect(await lost.proc.exited).toBe(0);
    // Its monitor saw the engine go (a fault) before the new engine said it supplies nothing.
    expect(jsonLines(lost)[0]).toMatchObject({ type: "ticket", session_id: sessions[2] });
    expect(["fault", "supply_lost"]).toContain(jsonLines(lost)[0].end_reason);
    console.log(`Central's tickets were all out ${Date.now() - upAt} ms after PostgreSQL was back`);

    // Sent again while nobody could answer, each stop was decided and audited once.
    const stops = await net.sql`select details->>'request_id' as request_id, count(*)::int as n from audit_events where action = 'request_stop' group by 1`;
    expect(stops.length).toBeGreaterThanOrEqual(2);
    for (const s of stops) expect(s.n).toBe(1);
    await waitFor(async () => (await net.sql`select 1 from charging_sessions where status = 'IN_PROGRESS'`).length === 0, "no session in progress");
    const audit = await net.auditMeters();
    console.log(formatAudit(audit));
    expect(audit.compared).toBe(3);
    expect(mismatches(audit)).toBe(0);
    for (const id of CP_IDS) await net.waitForStatus(id, "ACTIVE", 30_000);
  }, 300_000);
});
