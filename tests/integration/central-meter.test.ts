/**
 * A ticket is the engine's meter, whatever happens between the engine and Central: Central over
 * the real PostgreSQL, the in-process bus standing in for Kafka (with a switch that makes
 * publishing to the engines fail, as a broker outage would), and a stand-in CP.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import { MemoryBus } from "../../src/bus/memory.ts";
import type { Authorised, Refused, Stopping, TicketMessage } from "../../src/bus/messages.ts";
import { topicsFor } from "../../src/bus/topics.ts";
import { loadConfig } from "../../src/config/env.ts";
import { parseMasterKey } from "../../src/crypto/keys.ts";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { auditEvents } from "../../src/db/schema/index.ts";
import { centralConfigSchema } from "../../src/roles/central/config.ts";
import { type RunningCentral, start } from "../../src/roles/central/index.ts";
import { controlKeyEnv } from "../support/control.ts";
import { newMasterKeyHex } from "../support/identity.ts";
import { announceAuthenticated, cpStatus, registerAndKey, StandInCp, StandInDrivers, sessionRow } from "../support/network.ts";
import { createTestDatabase, type TestDatabase } from "../support/services.ts";
import { SwitchableBus } from "../support/switchable-bus.ts";
import { waitFor } from "../support/wait.ts";

const GRACE_S = 1;
const masterHex = newMasterKeyHex();
const topics = topicsFor("evnet");
let database: TestDatabase;
let handle: Database;
let memory: MemoryBus;
let bus: SwitchableBus;
let central: RunningCentral;
let drivers: StandInDrivers;
const cps: StandInCp[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  handle = await openDatabase({ url: database.url, maxConnections: 6 });
  memory = new MemoryBus();
  bus = new SwitchableBus(memory);
  const config = loadConfig(
    centralConfigSchema,
    {},
    {
      EVNET_MASTER_KEY: masterHex,
      MONITOR_TO_CENTRAL_HEARTBEAT_INTERVAL: "30",
      CENTRAL_SESSION_END_GRACE: String(GRACE_S),
      CENTRAL_SESSION_START_TIMEOUT: "2",
      CENTRAL_SWEEP_INTERVAL: "0.2",
      CENTRAL_INSTANCE_ID: "meter-test",
      ...controlKeyEnv(),
    },
  );
  central = await start(config, { database: handle, bus });
  drivers = new StandInDrivers(memory, topics, handle.db, parseMasterKey(masterHex));
  await drivers.listen("meter-drivers");
});

afterAll(async () => {
  for (const cp of cps) await cp.close();
  await drivers?.close();
  await central?.stop();
  await memory?.close();
  await handle?.close();
  await database?.drop();
});

async function activeCp(cpId: string): Promise<StandInCp> {
  const key = await registerAndKey(handle.db, parseMasterKey(masterHex), cpId);
  const cp = new StandInCp(memory, topics, cpId, key);
  await cp.listen(`engine-${cpId}`);
  cps.push(cp);
  await announceAuthenticated(memory, topics, cpId, key);
  await cp.heartbeat(30);
  await waitFor(async () => (await cpStatus(handle.db, cpId)) === "ACTIVE", `${cpId} ACTIVE`);
  return cp;
}

let requests = 0;
async function ask(driverId: string, cpId: string, type: "charge_request" | "stop_request" = "charge_request", extra: object = {}): Promise<string> {
  const requestId = extra && "request_id" in extra ? String(extra.request_id) : `m${++requests}-${driverId}`;
  await drivers.send(driverId, cpId, { type, request_id: requestId, driver_id: driverId, cp_id: cpId, at: new Date().toISOString(), ...extra });
  return requestId;
}

async function authorised(driverId: string, cp: StandInCp): Promise<Authorised> {
  const requestId = await ask(driverId, cp.cpId);
  let answer: Authorised | Refused | undefined;
  await waitFor(() => {
    answer = drivers.updates.find((u) => (u.type === "authorised" || u.type === "refused") && u.request_id === requestId) as Authorised | Refused;
    return answer !== undefined;
  }, `an answer to ${requestId}`);
  expect(answer!.type).toBe("authorised");
  return answer as Authorised;
}

/** A session the engine confirmed, with one reading of `energy` taken now (returned). */
async function supplying(driverId: string, cp: StandInCp, energy: number): Promise<{ sessionId: string; readAt: Date }> {
  const { session_id: sessionId } = await authorised(driverId, cp);
  await waitFor(() => cp.commands.some((c) => c.type === "start_supply" && c.session_id === sessionId), "start_supply at the engine");
  await cp.fromEngine({ type: "supply_started", session_id: sessionId });
  await Bun.sleep(20);
  const readAt = new Date();
  await cp.fromEngine({ type: "telemetry", session_id: sessionId, power_kw: 22, energy_kwh: energy, cost_eur: 0, elapsed_s: 5, at: readAt.toISOString() });
  await waitFor(async () => (await sessionRow(handle.db, sessionId))?.energyKwh === energy, "the reading applied");
  return { sessionId, readAt };
}

function ticketsOf(sessionId: string): TicketMessage[] {
  return drivers.updates.filter((u): u is TicketMessage => u.type === "ticket" && u.session_id === sessionId);
}

async function ticketOf(sessionId: string, count = 1): Promise<TicketMessage> {
  await waitFor(() => ticketsOf(sessionId).length >= count, `ticket ${count} of ${sessionId}`, { timeoutMs: 30_000 });
  return ticketsOf(sessionId)[count - 1]!;
}

const finalReading = (sessionId: string, energy: number, endedAt: Date, reason = "driver_stop") => ({
  type: "supply_ended",
  session_id: sessionId,
  reason,
  power_kw: 0,
  energy_kwh: energy,
  cost_eur: 0,
  started_at: new Date(endedAt.getTime() - 10_000).toISOString(),
  ended_at: endedAt.toISOString(),
});

async function audits(action: string, sessionId: string) {
  return (await handle.db.select().from(auditEvents).where(eq(auditEvents.action, action))).filter(
    (a) => (a.details as { session_id?: string } | null)?.session_id === sessionId,
  );
}

describe("a session the engine does not close itself", () => {
  test("ends at the engine's last reading, and its final reading arriving late corrects the ticket, once", async () => {
    const cp = await activeCp("CP_LATE");
    const { sessionId, readAt } = await supplying("D_LATE", cp, 0.05);
    await ask("D_LATE", cp.cpId, "stop_request", { session_id: sessionId });
    // The engine says nothing within the grace: the deadline probe closes it with what was read.
    const first = await ticketOf(sessionId);
    expect(first).toMatchObject({ energy_kwh: 0.05, end_reason: "driver_stop", ended_at: readAt.toISOString() });
    expect(first.corrected).toBeUndefined();
    expect(await cpStatus(handle.db, cp.cpId)).toBe("ACTIVE");

    const endedAt = new Date();
    await cp.fromEngine(finalReading(sessionId, 0.08, endedAt));
    const corrected = await ticketOf(sessionId, 2);
    expect(corrected).toMatchObject({ energy_kwh: 0.08, cost_eur: 0.02, end_reason: "driver_stop", corrected: true, ended_at: endedAt.toISOString() });
    expect(await sessionRow(handle.db, sessionId)).toMatchObject({ status: "FINISHED", energyKwh: 0.08, costEur: 0.02, endedAt });
    const [correction] = await audits("correct_ticket", sessionId);
    expect(correction).toMatchObject({ outcome: "success", actorType: "cp", actorId: "CP_LATE" });
    expect(correction!.details).toMatchObject({ before: { energy_kwh: 0.05 }, reported: { energy_kwh: 0.08 } });

    // Another final reading for it changes nothing and sends nothing: the driver has their ticket.
    await cp.fromEngine(finalReading(sessionId, 0.09, new Date()));
    await waitFor(async () => (await audits("correct_ticket", sessionId)).length === 2, "the second reading audited");
    expect((await audits("correct_ticket", sessionId))[1]!.outcome).toBe("failure");
    expect(ticketsOf(sessionId)).toHaveLength(2);
    expect((await sessionRow(handle.db, sessionId))?.energyKwh).toBe(0.08);
  });

  test("a final reading equal to what was billed corrects nothing", async () => {
    const cp = await activeCp("CP_SAME");
    const { sessionId, readAt } = await supplying("D_SAME", cp, 0.04);
    await ask("D_SAME", cp.cpId, "stop_request", { session_id: sessionId });
    await ticketOf(sessionId);
    await cp.fromEngine(finalReading(sessionId, 0.04, readAt));
    await cp.heartbeat(30); // in order after the reading: once it is applied, so is the reading
    await Bun.sleep(500);
    expect(ticketsOf(sessionId)).toHaveLength(1);
    expect(await audits("correct_ticket", sessionId)).toHaveLength(0);
  });

  test("the grace for a final reading starts when the stop is published, not when it is decided", async () => {
    const cp = await activeCp("CP_HELD");
    const { sessionId } = await supplying("D_HELD", cp, 0.02);
    bus.refused.add(topics.cpCommands); // the stop cannot reach the engine
    try {
      await ask("D_HELD", cp.cpId, "stop_request", { session_id: sessionId });
      await waitFor(async () => (await sessionRow(handle.db, sessionId))?.pendingEndReason === "driver_stop", "the stop decided");
      await Bun.sleep((GRACE_S + 3) * 1000);
      const held = await sessionRow(handle.db, sessionId);
      expect(held).toMatchObject({ status: "IN_PROGRESS", awaitingUntil: null }); // no wait started: the engine never heard of the stop
    } finally {
      bus.refused.delete(topics.cpCommands);
    }
    const released = Date.now();
    // Sent from the outbox now: the engine gets the stop and answers within the grace. The wait
    // starts once the stop is published (it commits a moment after the engine may have it), and
    // runs from then, not from when the stop was decided (GRACE_S + 3 s earlier).
    await waitFor(() => cp.commands.some((c) => c.type === "stop_supply" && c.session_id === sessionId), "the stop at the engine", { timeoutMs: 20_000 });
    let until: Date | null | undefined;
    await waitFor(async () => (until = (await sessionRow(handle.db, sessionId))?.awaitingUntil) != null, "the wait started");
    expect(until!.getTime()).toBeGreaterThanOrEqual(released + GRACE_S * 1000 - 1000); // PostgreSQL's clock against the test's: a second of slack
    await cp.fromEngine(finalReading(sessionId, 0.03, new Date()));
    expect(await ticketOf(sessionId)).toMatchObject({ energy_kwh: 0.03, end_reason: "driver_stop" });
    expect(ticketsOf(sessionId)).toHaveLength(1);
  }, 60_000);
});

describe("reconciliation with what the engine supplies", () => {
  test("an engine that starts again idle closes the session it had confirmed, with its metered energy, freeing the CP and the driver", async () => {
    const cp = await activeCp("CP_PHANTOM");
    const { sessionId, readAt } = await supplying("D_PHANTOM", cp, 0.06);
    await cp.fromEngine({ type: "engine_state", session_id: null, cause: "started" });
    expect(await ticketOf(sessionId)).toMatchObject({ energy_kwh: 0.06, end_reason: "supply_lost", ended_at: readAt.toISOString() });
    expect(await cpStatus(handle.db, cp.cpId)).toBe("ACTIVE");
    const again = await authorised("D_PHANTOM", cp); // neither driver_busy nor cp_busy
    expect(again.session_id).not.toBe(sessionId);
  });

  test("a session whose start the engine has not confirmed is left to its start timeout", async () => {
    const cp = await activeCp("CP_EARLY");
    const { session_id: sessionId } = await authorised("D_EARLY", cp);
    await cp.fromEngine({ type: "engine_state", session_id: null, cause: "started" });
    await cp.heartbeat(30); // applied after the engine's state
    await waitFor(async () => (await sessionRow(handle.db, sessionId))?.supplyStartedAt === null, "still awaiting its start");
    expect(ticketsOf(sessionId)).toHaveLength(0);
    await cp.fromEngine({ type: "supply_started", session_id: sessionId });
    await Bun.sleep(3000); // past the start timeout: confirmed in time, it goes on
    expect((await sessionRow(handle.db, sessionId))?.status).toBe("IN_PROGRESS");
    await ask("D_EARLY", cp.cpId, "stop_request", { session_id: sessionId });
    await cp.fromEngine(finalReading(sessionId, 0.01, new Date()));
    await ticketOf(sessionId);
  });

  test("a heartbeat saying the engine is idle makes Central ask the engine, whose answer decides", async () => {
    const cp = await activeCp("CP_ASK");
    const { sessionId } = await supplying("D_ASK", cp, 0.07);
    await cp.fromMonitor({ type: "heartbeat", interval_s: 30, engine: "OK", supply: null });
    await Bun.sleep(800);
    expect(cp.commands.some((c) => c.type === "report_state")).toBe(false); // just started: the monitor's view may lag
    await Bun.sleep(5000);
    await cp.fromMonitor({ type: "heartbeat", interval_s: 30, engine: "OK", supply: null });
    await waitFor(() => cp.commands.some((c) => c.type === "report_state"), "the engine asked what it supplies");
    expect((await sessionRow(handle.db, sessionId))?.status).toBe("IN_PROGRESS"); // the monitor's view decides nothing
    await cp.fromEngine({ type: "engine_state", session_id: null, cause: "asked" });
    expect(await ticketOf(sessionId)).toMatchObject({ energy_kwh: 0.07, end_reason: "supply_lost" });
  });

  test("a heartbeat saying the engine supplies the session asks nothing", async () => {
    const cp = await activeCp("CP_AGREE");
    const { sessionId } = await supplying("D_AGREE", cp, 0.01);
    await cp.fromMonitor({ type: "heartbeat", interval_s: 30, engine: "OK", supply: { session_id: sessionId, energy_kwh: 0.01 } });
    await cp.fromEngine({ type: "engine_state", session_id: sessionId, energy_kwh: 0.01, cause: "asked" });
    await Bun.sleep(800);
    expect(cp.commands.some((c) => c.type === "report_state")).toBe(false);
    expect((await sessionRow(handle.db, sessionId))?.status).toBe("IN_PROGRESS");
    await ask("D_AGREE", cp.cpId, "stop_request", { session_id: sessionId });
    await cp.fromEngine(finalReading(sessionId, 0.02, new Date()));
    expect(await ticketOf(sessionId)).toMatchObject({ energy_kwh: 0.02 });
  });

  test("an engine supplying a session Central does not know is told to stop", async () => {
    const cp = await activeCp("CP_STRAY");
    await cp.fromEngine({ type: "telemetry", session_id: "S-from-nowhere", power_kw: 22, energy_kwh: 0.1, cost_eur: 0, elapsed_s: 9 });
    await waitFor(
      () => cp.commands.some((c) => c.type === "stop_supply" && c.session_id === "S-from-nowhere" && c.reason === "unknown_session"),
      "a stop for the unknown session",
    );
  });
});

describe("stop requests", () => {
  test("a stop sent again is decided and audited once, answered the same, and answered with the ticket once closed", async () => {
    const cp = await activeCp("CP_RESEND");
    const { sessionId } = await supplying("D_RESEND", cp, 0.02);
    const requestId = `resend-${Date.now()}`;
    await ask("D_RESEND", cp.cpId, "stop_request", { session_id: sessionId, request_id: requestId });
    await ask("D_RESEND", cp.cpId, "stop_request", { session_id: sessionId, request_id: requestId });
    await waitFor(() => drivers.updates.filter((u) => u.type === "stopping" && u.request_id === requestId).length === 2, "two answers");
    const [a, b] = drivers.updates.filter((u): u is Stopping => u.type === "stopping" && u.request_id === requestId);
    expect(b).toEqual(a!);
    const stops = (
      await handle.db
        .select()
        .from(auditEvents)
        .where(and(eq(auditEvents.action, "request_stop"), eq(auditEvents.actorId, "D_RESEND")))
    ).filter((e) => (e.details as { request_id?: string }).request_id === requestId);
    expect(stops).toHaveLength(1);
    await cp.fromEngine(finalReading(sessionId, 0.03, new Date()));
    await ticketOf(sessionId);
    await ask("D_RESEND", cp.cpId, "stop_request", { session_id: sessionId, request_id: requestId });
    expect(await ticketOf(sessionId, 2)).toEqual(ticketsOf(sessionId)[0]!);
  });

  test("the authorisation gives the driver the session's stop token, and the engine's start command carries the same", async () => {
    const cp = await activeCp("CP_TOKEN");
    const answer = await authorised("D_TOKEN", cp);
    expect(answer.stop_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await waitFor(() => cp.commands.some((c) => c.type === "start_supply" && c.session_id === answer.session_id), "start_supply");
    const start = cp.commands.find((c) => c.type === "start_supply" && c.session_id === answer.session_id);
    expect(start).toMatchObject({ stop_token: answer.stop_token });
    await ask("D_TOKEN", cp.cpId, "stop_request", { session_id: answer.session_id });
    await ticketOf(answer.session_id);
  });
});
