/**
 * Central's rules against the real PostgreSQL, with the in-process bus standing in for Kafka
 * (the multi-process tests run the same code over Kafka): authorisation and every refusal,
 * a session from request to ticket, the fault paths, operator stop/resume, the weather, and
 * messages that must change nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { and, eq, sql } from "drizzle-orm";
import type { BusMessage, OutgoingMessage } from "../../src/bus/bus.ts";
import { MemoryBus } from "../../src/bus/memory.ts";
import type { Authorised, Refused, TicketMessage } from "../../src/bus/messages.ts";
import { topicsFor } from "../../src/bus/topics.ts";
import { loadConfig } from "../../src/config/env.ts";
import { parseMasterKey } from "../../src/crypto/keys.ts";
import { type Database, openDatabase, rowsOf } from "../../src/db/client.ts";
import { sqlStateOf } from "../../src/db/failures.ts";
import { auditEvents, busOffsets, chargingPoints, cityWeather, driverRequests } from "../../src/db/schema/index.ts";
import { centralConfigSchema } from "../../src/roles/central/config.ts";
import { createBatchHandler } from "../../src/roles/central/consumer.ts";
import { type RunningCentral, start } from "../../src/roles/central/index.ts";
import { decode } from "../../src/roles/central/items.ts";
import { AppliedOffsets } from "../../src/roles/central/offsets.ts";
import { RunGroups } from "../../src/roles/central/run-groups.ts";
import { OffsetMoved, type Run, type Tracking } from "../../src/roles/central/runs.ts";
import { deliveriesDone, inWork } from "../../src/roles/central/work.ts";
import { controlKeyEnv, publishControl } from "../support/control.ts";
import { fieldsOf, withFlippedBit } from "../support/envelopes.ts";
import { newMasterKeyHex } from "../support/identity.ts";
import { announceAuthenticated, auditsOf, cpStatus, registerAndKey, StandInCp, StandInDrivers, sessionRow, sessionsAt } from "../support/network.ts";
import { createTestDatabase, type TestDatabase } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

const masterHex = newMasterKeyHex();
const masterKey = parseMasterKey(masterHex);
const topics = topicsFor("evnet");
let database: TestDatabase;
let handle: Database;
let bus: MemoryBus;
let central: RunningCentral;
let drivers: StandInDrivers;
const cps = new Map<string, StandInCp>();

beforeAll(async () => {
  database = await createTestDatabase();
  handle = await openDatabase({ url: database.url, maxConnections: 6 });
  bus = new MemoryBus();
  const config = loadConfig(
    centralConfigSchema,
    {},
    {
      EVNET_MASTER_KEY: masterHex,
      ...controlKeyEnv(),
      MONITOR_TO_CENTRAL_HEARTBEAT_INTERVAL: "1",
      CENTRAL_SESSION_END_GRACE: "1",
      CENTRAL_SESSION_START_TIMEOUT: "2",
      CENTRAL_SWEEP_INTERVAL: "0.2",
      CENTRAL_INSTANCE_ID: "rules-test",
    },
  );
  central = await start(config, { database: handle, bus });
  drivers = new StandInDrivers(bus, topics, handle.db, masterKey);
  await drivers.listen("test-drivers");
});

afterAll(async () => {
  for (const cp of cps.values()) await cp.close();
  await drivers?.close();
  await central?.stop();
  await bus?.close();
  await handle?.close();
  await database?.drop();
});

/** A CP registered, authenticated and heard from: ACTIVE. */
async function activeCp(cpId: string, opts: { location?: string; price?: number } = {}): Promise<StandInCp> {
  const key = await registerAndKey(handle.db, masterKey, cpId, opts);
  const cp = new StandInCp(bus, topics, cpId, key);
  await cp.listen(`engine-${cpId}`);
  cps.set(cpId, cp);
  await announceAuthenticated(bus, topics, cpId, key);
  await cp.heartbeat(30);
  await waitFor(async () => (await cpStatus(handle.db, cpId)) === "ACTIVE", `${cpId} ACTIVE`);
  return cp;
}

function ask(driverId: string, cpId: string, type: "charge_request" | "stop_request" = "charge_request", extra: object = {}): Promise<string> {
  return drivers.ask(driverId, cpId, type, extra);
}

async function answerTo(requestId: string): Promise<Authorised | Refused> {
  let found: Authorised | Refused | undefined;
  await waitFor(() => {
    found = drivers.updates.find((u) => (u.type === "authorised" || u.type === "refused") && u.request_id === requestId) as Authorised | Refused | undefined;
    return found !== undefined;
  }, `an answer to ${requestId}`);
  return found!;
}

async function ticketOf(sessionId: string): Promise<TicketMessage> {
  let found: TicketMessage | undefined;
  await waitFor(() => {
    found = drivers.updates.find((u) => u.type === "ticket" && u.session_id === sessionId) as TicketMessage | undefined;
    return found !== undefined;
  }, `the ticket of ${sessionId}`);
  return found!;
}

/** The energy of each reading kept for a session's chart, oldest first. */
async function samplesOf(sessionId: string): Promise<number[]> {
  const rows = await handle.db.execute(sql`select energy_kwh from session_samples where session_id = ${sessionId} order by at`);
  return rowsOf<{ energy_kwh: number }>(rows).map((r) => r.energy_kwh);
}

async function authorisedSession(cp: StandInCp, driverId: string): Promise<string> {
  const answer = await answerTo(await ask(driverId, cp.cpId));
  expect(answer.type).toBe("authorised");
  const sessionId = (answer as Authorised).session_id;
  await waitFor(() => cp.commands.some((c) => c.type === "start_supply" && c.session_id === sessionId), "start_supply at the engine");
  await cp.fromEngine({ type: "supply_started", session_id: sessionId });
  return sessionId;
}

describe("a full session", () => {
  test("is authorised, billed from telemetry and closed with a ticket that matches it", async () => {
    const cp = await activeCp("CP_FULL", { price: 0.4 });
    const sessionId = await authorisedSession(cp, "D_FULL");
    expect(await cpStatus(handle.db, "CP_FULL")).toBe("SUPPLYING");
    for (const [i, energy] of [0.006, 0.012, 0.018].entries())
      await cp.fromEngine({ type: "telemetry", session_id: sessionId, power_kw: 22, energy_kwh: energy, cost_eur: 0, elapsed_s: i + 1 });
    await waitFor(async () => (await sessionRow(handle.db, sessionId))?.energyKwh === 0.018, "telemetry applied");
    await waitFor(() => drivers.of("D_FULL", "progress").length > 0, "progress forwarded to the driver");

    await ask("D_FULL", "CP_FULL", "stop_request", { session_id: sessionId });
    await waitFor(() => cp.commands.some((c) => c.type === "stop_supply" && c.session_id === sessionId), "stop_supply at the engine");
    const started = new Date(Date.now() - 3000).toISOString();
    await cp.fromEngine({
      type: "supply_ended",
      session_id: sessionId,
      reason: "driver_stop",
      power_kw: 0,
      energy_kwh: 0.02,
      cost_eur: 0.01,
      started_at: started,
      ended_at: new Date().toISOString(),
    });

    const ticket = await ticketOf(sessionId);
    expect(ticket).toMatchObject({ cp_id: "CP_FULL", driver_id: "D_FULL", energy_kwh: 0.02, price_per_kwh: 0.4, cost_eur: 0.01, end_reason: "driver_stop" });
    const row = await sessionRow(handle.db, sessionId);
    expect(row).toMatchObject({ status: "FINISHED", energyKwh: 0.02, costEur: 0.01, endReason: "driver_stop" });
    expect(await cpStatus(handle.db, "CP_FULL")).toBe("ACTIVE");
    const actions = (await auditsOf(handle.db, "cp/CP_FULL")).map((a) => a.action);
    expect(actions).toContain("start_session");
    expect(actions).toContain("end_session");
  });

  test("a repeated charge request gets the same answer and opens no second session", async () => {
    const cp = await activeCp("CP_TWICE");
    const requestId = `dup-${Date.now()}`;
    const body = { type: "charge_request", request_id: requestId, driver_id: "D_TWICE", cp_id: "CP_TWICE", at: new Date().toISOString() };
    // The app sends the same request again (it did not hear the answer): a new envelope, the same request id.
    await drivers.send("D_TWICE", "CP_TWICE", body);
    await drivers.send("D_TWICE", "CP_TWICE", body);
    await waitFor(() => drivers.updates.filter((u) => u.type === "authorised" && u.request_id === requestId).length === 2, "two identical answers");
    const answers = drivers.updates.filter((u) => u.type === "authorised" && u.request_id === requestId) as Authorised[];
    expect(answers[0]!.session_id).toBe(answers[1]!.session_id);
    expect(await sessionsAt(handle.db, "CP_TWICE")).toHaveLength(1);
    await ask("D_TWICE", cp.cpId, "stop_request");
    await ticketOf(answers[0]!.session_id);
  });
});

describe("refusals", () => {
  test("a request too old is refused as expired and locks or opens nothing; a decided one that comes again too late hears its answer again", async () => {
    const cp = await activeCp("CP_LATE");
    const anHourAgo = new Date(Date.now() - 3600_000).toISOString();
    const stale = await ask("D_LATE", "CP_LATE", "charge_request", { at: anHourAgo });
    expect(await answerTo(stale)).toMatchObject({ type: "refused", code: "expired" });
    expect(await sessionsAt(handle.db, "CP_LATE")).toHaveLength(0);
    const refused = await auditsOf(handle.db, "cp/CP_LATE");
    expect(refused.some((a) => a.action === "request_charge" && a.outcome === "failure" && a.reason?.startsWith("expired"))).toBe(true);
    // Decided in time; the same request (its id) read again past the age limit hears the same answer, and opens nothing more.
    const requestId = await ask("D_LATE", "CP_LATE");
    const first = (await answerTo(requestId)) as Authorised;
    expect(first.type).toBe("authorised");
    await drivers.send("D_LATE", "CP_LATE", { type: "charge_request", request_id: requestId, driver_id: "D_LATE", cp_id: "CP_LATE", at: anHourAgo });
    await waitFor(() => drivers.updates.filter((u) => u.type === "authorised" && u.request_id === requestId).length === 2, "the answer again");
    const answers = drivers.updates.filter((u) => u.type === "authorised" && u.request_id === requestId) as Authorised[];
    expect(answers[1]!.session_id).toBe(first.session_id);
    expect(await sessionsAt(handle.db, "CP_LATE")).toHaveLength(1);
    await waitFor(() => cp.commands.some((c) => c.type === "start_supply" && c.session_id === first.session_id), "start_supply at the engine");
    await cp.fromEngine({ type: "supply_started", session_id: first.session_id });
    await ask("D_LATE", "CP_LATE", "stop_request");
    await ticketOf(first.session_id);
  });

  test("an unknown CP is refused with its reason and audited", async () => {
    const answer = await answerTo(await ask("D_NOBODY", "CP_NOWHERE"));
    expect(answer).toMatchObject({ type: "refused", code: "unknown_cp" });
    const audits = await auditsOf(handle.db, "cp/CP_NOWHERE");
    expect(audits.some((a) => a.action === "request_charge" && a.outcome === "failure" && a.reason?.startsWith("unknown_cp"))).toBe(true);
  });

  test("a busy CP, a driver already charging, a stop of another's session and a stop without a session are refused", async () => {
    const cp = await activeCp("CP_BUSY");
    await activeCp("CP_OTHER");
    const sessionId = await authorisedSession(cp, "D_FIRST");
    expect(await answerTo(await ask("D_SECOND", "CP_BUSY"))).toMatchObject({ code: "cp_busy" });
    expect(await answerTo(await ask("D_FIRST", "CP_OTHER"))).toMatchObject({ code: "driver_busy" });
    expect(await answerTo(await ask("D_SECOND", "CP_BUSY", "stop_request", { session_id: sessionId }))).toMatchObject({ code: "not_your_session" });
    expect(await answerTo(await ask("D_SECOND", "CP_OTHER", "stop_request"))).toMatchObject({ code: "no_session" });
    const refusals = (await handle.db.select().from(auditEvents).where(eq(auditEvents.eventType, "request"))).filter((a) => a.outcome === "failure");
    for (const code of ["cp_busy", "driver_busy", "not_your_session", "no_session"]) expect(refusals.some((a) => a.reason?.startsWith(code))).toBe(true);
    expect((await sessionRow(handle.db, sessionId))?.status).toBe("IN_PROGRESS");
    await ask("D_FIRST", "CP_BUSY", "stop_request");
    await ticketOf(sessionId);
  });

  test("a malformed request is refused as invalid, audited and set aside; one that is not sealed is refused as an attack", async () => {
    const requestId = `bad-${Date.now()}`;
    await drivers.send("D_BAD", "CP_X", { type: "charge_request", request_id: requestId, driver_id: "D_BAD", cp_id: 42 });
    await bus.publish(topics.driverRequests, [
      {
        key: "CP_X",
        value: JSON.stringify({ type: "charge_request", request_id: `plain-${requestId}`, driver_id: "D_BAD", cp_id: "CP_X", at: new Date().toISOString() }),
      },
    ]);
    expect(await answerTo(requestId)).toMatchObject({ code: "invalid_request" });
    await waitFor(async () => (await auditsOf(handle.db, "cp/CP_X")).length === 2, "both audited");
    const audits = await auditsOf(handle.db, "cp/CP_X");
    expect(audits.find((a) => a.eventType === "request")?.reason).toStartWith("invalid request");
    expect(audits.find((a) => a.eventType === "security")?.reason).toStartWith("malformed");
    expect(drivers.updates.some((u) => u.type === "refused" && u.request_id === `plain-${requestId}`)).toBe(false);
  });

  test("a driver cannot stop another driver's session: not by naming it, not as that driver, not unsealed", async () => {
    const cp = await activeCp("CP_MINE");
    const sessionId = await authorisedSession(cp, "D_OWNER");
    // Sealed by D_THIEF, naming the owner's session: refused as not its session.
    expect(await answerTo(await ask("D_THIEF", "CP_MINE", "stop_request", { session_id: sessionId }))).toMatchObject({ code: "not_your_session" });
    // Sealed by D_THIEF, claiming to be the owner: refused as an impersonation, unanswered.
    await drivers.send("D_THIEF", "CP_MINE", {
      type: "stop_request",
      request_id: "as-owner",
      driver_id: "D_OWNER",
      cp_id: "CP_MINE",
      session_id: sessionId,
      at: new Date().toISOString(),
    });
    // Unsealed, claiming to be the owner (what anyone with access to Kafka could write before).
    await bus.publish(topics.driverRequests, [
      {
        key: "CP_MINE",
        value: JSON.stringify({
          type: "stop_request",
          request_id: "plain",
          driver_id: "D_OWNER",
          cp_id: "CP_MINE",
          session_id: sessionId,
          at: new Date().toISOString(),
        }),
      },
    ]);
    await waitFor(async () => (await auditsOf(handle.db, "cp/CP_MINE")).filter((a) => a.eventType === "security").length === 2, "both refusals audited");
    const security = (await auditsOf(handle.db, "cp/CP_MINE")).filter((a) => a.eventType === "security").map((a) => a.reason);
    expect(security).toHaveLength(2);
    expect(security).toEqual(expect.arrayContaining([expect.stringMatching(/^driver_mismatch/), expect.stringMatching(/^malformed/)]));
    expect((await sessionRow(handle.db, sessionId))?.status).toBe("IN_PROGRESS");
    expect(cp.commands.some((c) => c.type === "stop_supply" && c.session_id === sessionId)).toBe(false);
    await ask("D_OWNER", "CP_MINE", "stop_request");
    await ticketOf(sessionId);
  });
});

describe("fault paths", () => {
  test("an engine fault mid-session makes the CP BROKEN and ends the session with what was delivered", async () => {
    const cp = await activeCp("CP_KO");
    const sessionId = await authorisedSession(cp, "D_KO");
    await cp.fromEngine({ type: "telemetry", session_id: sessionId, power_kw: 11, energy_kwh: 0.05, cost_eur: 0.02, elapsed_s: 1 });
    await waitFor(async () => (await sessionRow(handle.db, sessionId))?.energyKwh === 0.05, "telemetry applied");
    await cp.fromMonitor({ type: "engine_status", status: "KO", detail: "health check answered KO" });
    await waitFor(async () => (await cpStatus(handle.db, "CP_KO")) === "BROKEN", "BROKEN");
    // The engine is dead and never reports: the grace period passes and Central closes the session itself.
    const ticket = await ticketOf(sessionId);
    expect(ticket).toMatchObject({ energy_kwh: 0.05, end_reason: "fault" });
    expect(await cpStatus(handle.db, "CP_KO")).toBe("BROKEN");
    expect(await answerTo(await ask("D_KO", "CP_KO"))).toMatchObject({ code: "cp_broken" });
    await cp.fromMonitor({ type: "engine_status", status: "OK", detail: "recovered" });
    await waitFor(async () => (await cpStatus(handle.db, "CP_KO")) === "ACTIVE", "ACTIVE again");
  });

  test("a silent monitor makes the CP DISCONNECTED after 3 intervals, ending its session; heartbeats bring it back", async () => {
    const cp = await activeCp("CP_SILENT");
    const sessionId = await authorisedSession(cp, "D_SILENT");
    await cp.heartbeat(0.5);
    await waitFor(async () => (await cpStatus(handle.db, "CP_SILENT")) === "DISCONNECTED", "DISCONNECTED", { timeoutMs: 10_000 });
    await waitFor(() => cp.commands.some((c) => c.type === "stop_supply" && c.session_id === sessionId), "the engine is told to stop");
    await cp.fromEngine({
      type: "supply_ended",
      session_id: sessionId,
      reason: "operator_stop",
      power_kw: 0,
      energy_kwh: 0.03,
      cost_eur: 0.01,
      started_at: new Date().toISOString(),
      ended_at: new Date().toISOString(),
    });
    expect(await ticketOf(sessionId)).toMatchObject({ energy_kwh: 0.03, end_reason: "disconnected" });
    await cp.heartbeat(30);
    await waitFor(async () => (await cpStatus(handle.db, "CP_SILENT")) === "ACTIVE", "ACTIVE after a heartbeat");
  });

  test("an engine that never confirms a start has its session closed with nothing billed", async () => {
    const cp = await activeCp("CP_MUTE");
    const answer = (await answerTo(await ask("D_MUTE", cp.cpId))) as Authorised;
    expect(await ticketOf(answer.session_id)).toMatchObject({ energy_kwh: 0, cost_eur: 0, end_reason: "engine_no_response" });
    expect(await cpStatus(handle.db, "CP_MUTE")).toBe("ACTIVE");
  });
});

describe("messages that change nothing", () => {
  test("tampered and replayed telemetry is refused, audited and not applied", async () => {
    const cp = await activeCp("CP_TAMPER");
    const sessionId = await authorisedSession(cp, "D_TAMPER");
    const genuine = cp.engine.seal({
      type: "telemetry",
      session_id: sessionId,
      power_kw: 22,
      energy_kwh: 0.01,
      cost_eur: 0,
      elapsed_s: 1,
      at: new Date().toISOString(),
    });
    await bus.publish(topics.cpEvents, [genuine]);
    await waitFor(async () => (await sessionRow(handle.db, sessionId))?.energyKwh === 0.01, "genuine telemetry applied");
    const forged = withFlippedBit(
      cp.engine.seal({ type: "telemetry", session_id: sessionId, power_kw: 22, energy_kwh: 9, cost_eur: 0, elapsed_s: 2, at: new Date().toISOString() }).value,
      -1,
    );
    await bus.publish(topics.cpEvents, [{ key: "CP_TAMPER", value: forged }, genuine]);
    await waitFor(async () => (await auditsOf(handle.db, "cp/CP_TAMPER")).filter((a) => a.eventType === "security").length >= 2, "both refusals audited");
    const reasons = (await auditsOf(handle.db, "cp/CP_TAMPER")).filter((a) => a.eventType === "security").map((a) => a.reason ?? "");
    expect(reasons.some((r) => r.startsWith("tampered"))).toBe(true);
    expect(reasons.some((r) => r.startsWith("replayed"))).toBe(true);
    expect((await sessionRow(handle.db, sessionId))?.energyKwh).toBe(0.01);
    // The genuine reading, the session's first, was kept for its chart; neither the forged one
    // nor the replayed copy was.
    expect(await samplesOf(sessionId)).toEqual([0.01]);
    await ask("D_TAMPER", cp.cpId, "stop_request");
    await cp.fromEngine({
      type: "supply_ended",
      session_id: sessionId,
      reason: "driver_stop",
      power_kw: 0,
      energy_kwh: 0.01,
      cost_eur: 0,
      started_at: new Date().toISOString(),
      ended_at: new Date().toISOString(),
    });
    expect((await ticketOf(sessionId)).energy_kwh).toBe(0.01);
  });
});

describe("control characters on the bus", () => {
  const refusals = async (resource: string, prefix: string) => (await auditsOf(handle.db, resource)).filter((a) => a.reason?.startsWith(prefix));

  test("a driver request with a NUL in its request id is refused by its schema, audited, stored nowhere, and the next one is served", async () => {
    await activeCp("CP_NUL_REQ");
    const hidden = `nul\u0000-${Date.now()}`;
    await drivers.send("D_NUL", "CP_NUL_REQ", {
      type: "charge_request",
      request_id: hidden,
      driver_id: "D_NUL",
      cp_id: "CP_NUL_REQ",
      at: new Date().toISOString(),
    });
    expect((await answerTo(await ask("D_NUL", "CP_NUL_REQ"))).type).toBe("authorised");
    const [refusal] = await refusals("cp/CP_NUL_REQ", "invalid request");
    expect(refusal?.reason).toBe("invalid request: request_id: expected no control characters");
    const stored = await handle.db.select().from(driverRequests).where(eq(driverRequests.driverId, "D_NUL"));
    expect(stored.map((r) => r.requestId)).not.toContain(hidden);
    expect(drivers.updates.some((u) => "request_id" in u && u.request_id === hidden)).toBe(false);
  });

  test("a control message with a NUL in its reason is refused, audited with the field, and stops nothing", async () => {
    await activeCp("CP_NUL_CTL");
    await publishControl(bus, topics, {
      type: "operator_stop",
      cp_id: "CP_NUL_CTL",
      actor_id: "menu",
      reason: "mainten\u0000ance",
      at: new Date().toISOString(),
    });
    const refusalOf = async (key: string) =>
      (await handle.db.select().from(auditEvents).where(eq(auditEvents.action, "control_message"))).find((a) => (a.details as { key?: string })?.key === key);
    await waitFor(async () => (await refusalOf("CP_NUL_CTL")) !== undefined, "the refusal audited");
    const refusal = await refusalOf("CP_NUL_CTL");
    expect(refusal).toMatchObject({ outcome: "failure", reason: "an unreadable control message was set aside: reason: expected no control characters" });
    expect(await cpStatus(handle.db, "CP_NUL_CTL")).toBe("ACTIVE");
  });

  test("a sealed CP event with a NUL in a text field is refused by its schema, audited, and changes nothing", async () => {
    const cp = await activeCp("CP_NUL_EVT");
    await cp.fromMonitor({ type: "engine_status", status: "KO", detail: "health check\u0000 KO" });
    await waitFor(async () => (await refusals("cp/CP_NUL_EVT", "invalid payload")).length > 0, "the refusal audited");
    const [refusal] = await refusals("cp/CP_NUL_EVT", "invalid payload");
    expect(refusal).toMatchObject({ eventType: "security", outcome: "failure", reason: "invalid payload: detail: expected no control characters" });
    expect(await cpStatus(handle.db, "CP_NUL_EVT")).toBe("ACTIVE");
  });
});

/** The partition the handover tests play on (a partition of their own). */
const HANDED_OVER = 99;

/** A sealed message as the bus hands it over at `offset` of partition `at` of the CP events. */
const onPartition = (sealed: OutgoingMessage, offset: number, at: number) =>
  ({ ...sealed, topic: topics.cpEvents, partition: at, offset: BigInt(offset), timestamp: Date.now() }) as BusMessage;

/** A reading the CP sealed, as the bus hands it over at `offset` of partition `at`. */
const readingAt = (cp: StandInCp, sessionId: string, energy: number, offset: number, elapsed: number, at = HANDED_OVER) =>
  onPartition(
    cp.engine.seal({
      type: "telemetry",
      session_id: sessionId,
      power_kw: 22,
      energy_kwh: energy,
      cost_eur: 0,
      elapsed_s: elapsed,
      at: new Date().toISOString(),
    }),
    offset,
    at,
  );

/** A heartbeat of the CP's monitor, as the bus hands it over at `offset` of partition `at`. */
const heartbeatAt = (cp: StandInCp, offset: number, at: number) =>
  onPartition(cp.monitor.seal({ type: "heartbeat", interval_s: 30, engine: "OK", at: new Date().toISOString() }), offset, at);

/** The next offset Central's applied-offset table holds for partition `at` of the CP events. */
const appliedAt = async (at = HANDED_OVER) => {
  const [row] = await handle.db
    .select()
    .from(busOffsets)
    .where(and(eq(busOffsets.groupId, central.ctx.settings.group), eq(busOffsets.topic, topics.cpEvents), eq(busOffsets.partition, at)));
  return row?.nextOffset;
};

describe("a partition handed over between two Central instances", () => {
  // Two batch handlers on one database play two instances (each remembers the offset it last
  // applied); the batches carry Kafka-like offsets on a partition of their own.

  test("a batch partly applied by the other instance is applied once, from where that one stopped", async () => {
    const cp = await activeCp("CP_HANDOVER");
    const sessionId = await authorisedSession(cp, "D_HANDOVER");
    const ctx = { ...central.ctx, settings: { ...central.ctx.settings, trackOffsets: true } };
    const [first, second] = [createBatchHandler(ctx), createBatchHandler(ctx)];
    const batch = [0.1, 0.2, 0.3, 0.4].map((energy, i) => readingAt(cp, sessionId, energy, i, i + 1));
    const applied = () => appliedAt();

    await second(batch.slice(0, 2));
    expect(await applied()).toBe(2n);
    await first(batch.slice(0, 3)); // the partition moved: offsets 0-1 are skipped, 2 applied
    expect(await applied()).toBe(3n);
    expect((await sessionRow(handle.db, sessionId))?.energyKwh).toBe(0.3);
    // The partition is back with the first holder, which still believes offset 2 comes next.
    await second(batch.slice(2));
    expect(await applied()).toBe(4n);
    expect((await sessionRow(handle.db, sessionId))?.energyKwh).toBe(0.4);
    // Everything applied already: nothing changes, nothing fails.
    await first(batch.slice(3));
    expect(await applied()).toBe(4n);
    expect((await sessionRow(handle.db, sessionId))?.lastTelemetrySeq).toBe(fieldsOf(batch[3]!.value).seq);
    // The holder opens its next batch with the sequences it keeps for the partition: a copy of
    // an applied reading is still refused as a replay, and the new reading applied.
    await second([{ ...batch[2]!, offset: 4n }, readingAt(cp, sessionId, 0.5, 5, 5)]);
    expect(await applied()).toBe(6n);
    expect((await sessionRow(handle.db, sessionId))?.energyKwh).toBe(0.5);
    const replays = (await auditsOf(handle.db, "cp/CP_HANDOVER")).filter((a) => a.eventType === "security" && (a.reason ?? "").startsWith("replayed"));
    expect(replays.length).toBe(1);
    // The partition goes back and forth: each instance finds the offset moved and applies what
    // is left; the one that kept sequences from before opens its batch again against the
    // sequences accepted since, so a copy of what the other applied is refused there too.
    const reading = (energy: number, offset: number) => readingAt(cp, sessionId, energy, offset, energy * 10);
    await first([reading(0.6, 6)]);
    const seven = reading(0.7, 7);
    await second([seven]);
    expect((await sessionRow(handle.db, sessionId))?.energyKwh).toBe(0.7);
    await first([{ ...seven, offset: 8n }, reading(0.8, 9)]);
    expect(await applied()).toBe(10n);
    expect((await sessionRow(handle.db, sessionId))?.energyKwh).toBe(0.8);
    const refused = (await auditsOf(handle.db, "cp/CP_HANDOVER")).filter((a) => a.eventType === "security" && (a.reason ?? "").startsWith("replayed"));
    expect(refused.length).toBe(2);
  });

  test("after a restart a replayed reading is refused by its session's row: audited, and nothing changes; readings store no sequence row", async () => {
    const cp = await activeCp("CP_RESTART_REPLAY");
    const sessionId = await authorisedSession(cp, "D_RESTART_REPLAY");
    const ctx = { ...central.ctx, settings: { ...central.ctx.settings, trackOffsets: true } };
    const at = 97;
    const readings = [0.1, 0.2, 0.3].map((energy, i) => readingAt(cp, sessionId, energy, i, i + 1, at));
    await createBatchHandler(ctx)(readings);
    expect((await sessionRow(handle.db, sessionId))?.energyKwh).toBe(0.3);
    const sender = `engine:${cp.cpId}`;
    const stored = (await handle.db.execute(sql`select last_seq from message_sequences where sender = ${sender}`)) as unknown as { last_seq: string }[];
    const lastSeq = fieldsOf(readings[2]!.value).seq as number;
    expect(stored.every((r) => Number(r.last_seq) < lastSeq)).toBe(true);
    // A new instance (nothing in memory) is handed copies of the second reading, alone and then
    // with a reading that is new: the copies are refused and audited, the new reading applied.
    const restarted = createBatchHandler(ctx);
    await restarted([{ ...readings[1]!, offset: 3n }]);
    expect(await appliedAt(at)).toBe(4n);
    expect((await sessionRow(handle.db, sessionId))?.energyKwh).toBe(0.3);
    await restarted([{ ...readings[1]!, offset: 4n }, readingAt(cp, sessionId, 0.4, 5, 4, at)]);
    expect((await sessionRow(handle.db, sessionId))?.energyKwh).toBe(0.4);
    const replays = (await auditsOf(handle.db, "cp/CP_RESTART_REPLAY")).filter((a) => a.eventType === "security" && (a.reason ?? "").startsWith("replayed"));
    expect(replays.map((a) => a.details)).toEqual([
      expect.objectContaining({ code: "replayed", sender, seq: fieldsOf(readings[1]!.value).seq }),
      expect.objectContaining({ code: "replayed", sender, seq: fieldsOf(readings[1]!.value).seq }),
    ]);
    expect(replays.map((a) => a.sourceAddress).sort()).toEqual([`kafka:${topics.cpEvents}/${at}@3`, `kafka:${topics.cpEvents}/${at}@4`]);
  });

  test("after a restart a replayed heartbeat is refused by its CP's row: audited, and nothing changes; heartbeats store no sequence row", async () => {
    const cp = await activeCp("CP_HB_REPLAY");
    const ctx = { ...central.ctx, settings: { ...central.ctx.settings, trackOffsets: true } };
    const at = 96;
    const beats = [0, 1, 2].map((i) => heartbeatAt(cp, i, at));
    const seqOf = (m: BusMessage) => fieldsOf(m.value).seq;
    const lastHeartbeatSeq = async () =>
      Number((await handle.db.select({ seq: chargingPoints.lastHeartbeatSeq }).from(chargingPoints).where(eq(chargingPoints.cpId, cp.cpId)))[0]?.seq);
    await createBatchHandler(ctx)(beats);
    expect(await lastHeartbeatSeq()).toBe(seqOf(beats[2]!));
    const sender = `monitor:${cp.cpId}`;
    const stored = (await handle.db.execute(sql`select last_seq from message_sequences where sender = ${sender}`)) as unknown as { last_seq: string }[];
    expect(stored.every((r) => Number(r.last_seq) < seqOf(beats[0]!))).toBe(true);
    // A new instance (nothing in memory) is handed a copy of the second heartbeat, alone and then
    // with a heartbeat that is new: the copies are refused and audited, the new heartbeat applied.
    const restarted = createBatchHandler(ctx);
    await restarted([{ ...beats[1]!, offset: 3n }]);
    expect(await appliedAt(at)).toBe(4n);
    expect(await lastHeartbeatSeq()).toBe(seqOf(beats[2]!));
    const fresh = heartbeatAt(cp, 5, at);
    await restarted([{ ...beats[1]!, offset: 4n }, fresh]);
    expect(await lastHeartbeatSeq()).toBe(seqOf(fresh));
    const replays = (await auditsOf(handle.db, "cp/CP_HB_REPLAY")).filter((a) => a.eventType === "security" && (a.reason ?? "").startsWith("replayed"));
    expect(replays.map((a) => a.details)).toEqual([
      expect.objectContaining({ code: "replayed", sender, seq: seqOf(beats[1]!) }),
      expect.objectContaining({ code: "replayed", sender, seq: seqOf(beats[1]!) }),
    ]);
    expect(replays.map((a) => a.sourceAddress).sort()).toEqual([`kafka:${topics.cpEvents}/${at}@3`, `kafka:${topics.cpEvents}/${at}@4`]);
    expect(await cpStatus(handle.db, cp.cpId)).toBe("ACTIVE");
  });

  /**
   * Makes PostgreSQL itself answer as a deadlock's victim does (40P01), once: the first time a row
   * of `table` meets `when` (a trigger `event`, e.g. "before update") and `condition`. A sequence
   * is not undone with the transaction, so the next attempt goes through, and `attempts()` says
   * how many times the statement ran. `drop()` removes it all.
   */
  async function deadlockOnce(name: string, event: string, table: string, condition = "true", returns = "new") {
    await handle.db.execute(sql.raw(`create sequence ${name}`));
    await handle.db.execute(
      sql.raw(`create function ${name}() returns trigger language plpgsql as $$
        begin
          if ${condition} and nextval('${name}') = 1 then
            raise exception 'deadlock detected' using errcode = '40P01';
          end if;
          return ${returns};
        end $$`),
    );
    await handle.db.execute(sql.raw(`create trigger ${name} ${event} on ${table} for each row execute function ${name}()`));
    return {
      attempts: async () =>
        Number(((await handle.db.execute(sql.raw(`select last_value from ${name}`))) as unknown as { last_value: string }[])[0]?.last_value),
      drop: async () => {
        await handle.db.execute(sql.raw(`drop trigger ${name} on ${table}`));
        await handle.db.execute(sql.raw(`drop function ${name}()`));
        await handle.db.execute(sql.raw(`drop sequence ${name}`));
      },
    };
  }

  test("a batch PostgreSQL undoes to break a deadlock is applied again, once, without waiting for the bus", async () => {
    const cp = await activeCp("CP_DEADLOCK");
    const sessionId = await authorisedSession(cp, "D_DEADLOCK");
    const ctx = { ...central.ctx, settings: { ...central.ctx.settings, trackOffsets: true } };
    const handler = createBatchHandler(ctx);
    // The first time the batch moves its partition's offset, PostgreSQL itself answers as it
    // does a deadlock's victim (40P01). A sequence is not undone with the transaction, so the
    // second attempt goes through.
    const deadlocked = 98;
    const deadlock = await deadlockOnce("deadlock_once", "before insert or update", "bus_offsets", `new.partition = ${deadlocked}`);
    try {
      await handler([0.1, 0.2].map((energy, i) => readingAt(cp, sessionId, energy, i, i + 1, deadlocked)));
      expect(await appliedAt(deadlocked)).toBe(2n);
      expect((await sessionRow(handle.db, sessionId))?.energyKwh).toBe(0.2);
      // It did fail once: the sequence was drawn by the undone attempt and by the one that held.
      expect(await deadlock.attempts()).toBeGreaterThanOrEqual(2);
      const replays = (await auditsOf(handle.db, "cp/CP_DEADLOCK")).filter((a) => (a.reason ?? "").startsWith("replayed"));
      expect(replays).toEqual([]);
    } finally {
      await deadlock.drop();
    }
  });
  test("a command's wait never waits for a batch holding its session's row: it starts once the row is free, and the message leaves the outbox then", async () => {
    const cp = await activeCp("CP_WAIT_HELD");
    const sessionId = await authorisedSession(cp, "D_WAIT_HELD");
    await handle.db.execute(sql`update charging_sessions set pending_end_reason = 'driver_stop', awaiting_until = null where session_id = ${sessionId}`);
    const waiting = async () =>
      (
        (await handle.db.execute(sql`select awaiting_until is not null as waiting from charging_sessions where session_id = ${sessionId}`)) as unknown as {
          waiting: boolean;
        }[]
      )[0]?.waiting;
    const inOutbox = async () => ((await handle.db.execute(sql`select 1 from outbox where session_id = ${sessionId}`)) as unknown[]).length;
    // Another transaction holds the session's row, as a batch applying its readings does until it commits.
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = () => {};
    const holding = new Promise<void>((resolve) => (held = resolve));
    const holder = handle.db.transaction(async (tx) => {
      await tx.execute(sql`select 1 from charging_sessions where session_id = ${sessionId} for update`);
      held();
      await released;
    });
    await holding;
    try {
      await inWork(central.ctx, async (work) => {
        work.send(topics.cpCommands, { key: cp.cpId, value: "stop" }, { sessionId, awaits: "end" });
      });
      // The delivery finishes while the row is held (it never waits for it): the wait is not
      // started yet, and the message stays in the outbox until it is.
      await deliveriesDone(central.ctx);
      expect(await waiting()).toBe(false);
      expect(await inOutbox()).toBe(1);
    } finally {
      release();
      await holder;
    }
    await waitFor(async () => (await waiting()) === true && (await inOutbox()) === 0, "the wait started and the message out of the outbox");
  });

  test("delivering committed messages that PostgreSQL undoes to break a deadlock is done again at once, not left to the sweeper", async () => {
    const cp = await activeCp("CP_DELIVER_DEADLOCK");
    const sessionId = await authorisedSession(cp, "D_DELIVER_DEADLOCK");
    const warnings: string[] = [];
    const log = { ...central.ctx.log, warn: (msg: string) => warnings.push(msg) };
    const ctx = { ...central.ctx, log };
    // The first delete of a delivered message fails as a deadlock's victim (40P01) does.
    const deadlock = await deadlockOnce("deliver_deadlock_once", "before delete", "outbox", "true", "old");
    try {
      await handle.db.execute(sql`update charging_sessions set pending_end_reason = 'driver_stop', awaiting_until = null where session_id = ${sessionId}`);
      await inWork(ctx, async (work) => {
        work.send(topics.cpCommands, { key: cp.cpId, value: "stop" }, { sessionId, awaits: "end" });
      });
      await deliveriesDone(ctx);
      expect(await deadlock.attempts()).toBeGreaterThanOrEqual(2);
      expect(warnings).toEqual([]);
      const [row] = (await handle.db.execute(
        sql`select awaiting_until is not null as waiting from charging_sessions where session_id = ${sessionId}`,
      )) as unknown as {
        waiting: boolean;
      }[];
      expect(row?.waiting).toBe(true);
    } finally {
      await deadlock.drop();
    }
  });
});

describe("batches of several partitions in one transaction", () => {
  // Partitions of their own (80-86); offsets as Kafka would hand them over.
  /** Central's context with offsets tracked, batches grouped, and each transaction's number of batches recorded. */
  const grouped = () => {
    const transactions: number[] = [];
    const ctx = {
      ...central.ctx,
      settings: { ...central.ctx.settings, trackOffsets: true, partitionsPerTransaction: 6, maxBatch: 2000 },
      metrics: { ...central.ctx.metrics!, transaction: (n: number) => transactions.push(n) },
    };
    return { ctx, transactions };
  };
  /** A run of `messages` from offset 0 of `partition`, decoded as the handler decodes it. */
  const runOf = async (ctx: typeof central.ctx, offsets: AppliedOffsets, partition: number, messages: BusMessage[]) => {
    const run: Run = { messages, items: await decode(ctx, messages), from: 0n, to: BigInt(messages.length) };
    const tracking: Tracking = { offsets, ref: { group: ctx.settings.group, topic: topics.cpEvents, partition }, known: new Map() };
    return { run, tracking };
  };

  test("the batches of three partitions ready at once go in one transaction: every reading applied, each partition's offset advanced", async () => {
    const { ctx, transactions } = grouped();
    const cpList = await Promise.all([0, 1, 2].map((i) => activeCp(`CP_GROUP_${i}`)));
    const sessions = await Promise.all(cpList.map((cp, i) => authorisedSession(cp, `D_GROUP_${i}`)));
    const offsets = new AppliedOffsets();
    const runs = await Promise.all(
      cpList.map((cp, i) =>
        runOf(
          ctx,
          offsets,
          80 + i,
          [0.1, 0.2].map((energy, offset) => readingAt(cp, sessions[i]!, energy + i, offset, 1, 80 + i)),
        ),
      ),
    );
    const groups = new RunGroups(ctx, 6, 2000);
    await Promise.all(runs.map((r) => groups.apply(r.run, r.tracking)));
    expect(transactions).toEqual([3]);
    for (const [i, sessionId] of sessions.entries()) {
      expect(await appliedAt(80 + i)).toBe(2n);
      expect((await sessionRow(handle.db, sessionId))?.energyKwh).toBeCloseTo(0.2 + i, 6);
    }
    // A bound on the messages of one transaction splits the next group (each run has 2).
    const bounded = new RunGroups(ctx, 6, 3);
    const more = await Promise.all(
      cpList.map(async (cp, i) => {
        const r = await runOf(ctx, offsets, 80 + i, [readingAt(cp, sessions[i]!, 0.3 + i, 2, 1, 80 + i), readingAt(cp, sessions[i]!, 0.4 + i, 3, 1, 80 + i)]);
        return { ...r, run: { ...r.run, from: 2n, to: 4n } };
      }),
    );
    await Promise.all(more.map((r) => bounded.apply(r.run, r.tracking)));
    expect(transactions).toEqual([3, 1, 1, 1]);
    for (const [i, sessionId] of sessions.entries()) {
      expect(await appliedAt(80 + i)).toBe(4n);
      expect((await sessionRow(handle.db, sessionId))?.energyKwh).toBeCloseTo(0.4 + i, 6);
    }
    // The partitions have their rows now: the next group advances all three with one claim.
    const last = await Promise.all(
      cpList.map(async (cp, i) => {
        const r = await runOf(ctx, offsets, 80 + i, [readingAt(cp, sessions[i]!, 0.5 + i, 4, 1, 80 + i), readingAt(cp, sessions[i]!, 0.6 + i, 5, 1, 80 + i)]);
        return { ...r, run: { ...r.run, from: 4n, to: 6n } };
      }),
    );
    await Promise.all(last.map((r) => groups.apply(r.run, r.tracking)));
    expect(transactions).toEqual([3, 1, 1, 1, 3]);
    for (const [i, sessionId] of sessions.entries()) {
      expect(await appliedAt(80 + i)).toBe(6n);
      expect((await sessionRow(handle.db, sessionId))?.energyKwh).toBeCloseTo(0.6 + i, 6);
    }
  });

  test("batches of readings alone do not share a transaction with one that holds more, nor wait for it", async () => {
    const { ctx, transactions } = grouped();
    const cpList = await Promise.all([0, 1, 2].map((i) => activeCp(`CP_ALIKE_${i}`)));
    const sessions = await Promise.all(cpList.map((cp, i) => authorisedSession(cp, `D_ALIKE_${i}`)));
    const offsets = new AppliedOffsets();
    const [first, busy, last] = await Promise.all([
      runOf(ctx, offsets, 87, [readingAt(cpList[0]!, sessions[0]!, 0.5, 0, 1, 87)]),
      // A partition whose batch holds more than readings (its monitor's verdict on the engine).
      runOf(ctx, offsets, 88, [
        onPartition(cpList[1]!.monitor.seal({ type: "engine_status", status: "OK", detail: "", at: new Date().toISOString() }), 0, 88),
        readingAt(cpList[1]!, sessions[1]!, 0.6, 1, 1, 88),
      ]),
      runOf(ctx, offsets, 89, [readingAt(cpList[2]!, sessions[2]!, 0.7, 0, 1, 89)]),
    ]);
    const groups = new RunGroups(ctx, 6, 2000);
    await Promise.all([first!, busy!, last!].map((r) => groups.apply(r.run, r.tracking)));
    expect([...transactions].sort()).toEqual([1, 2]); // the two of readings together, the other alone
    expect(await appliedAt(87)).toBe(1n);
    expect(await appliedAt(88)).toBe(2n);
    expect(await appliedAt(89)).toBe(1n);
    for (const [i, sessionId] of sessions.entries()) expect((await sessionRow(handle.db, sessionId))?.energyKwh).toBeCloseTo(0.5 + i / 10, 6);
  });

  test("a partition another instance moved on undoes the group: the others are applied alone, and that one is told where its offset is", async () => {
    const { ctx, transactions } = grouped();
    const [moved, kept] = await Promise.all([activeCp("CP_GROUP_MOVED"), activeCp("CP_GROUP_KEPT")]);
    const [movedSession, keptSession] = await Promise.all([authorisedSession(moved!, "D_GROUP_MOVED"), authorisedSession(kept!, "D_GROUP_KEPT")]);
    // Another instance applied offset 0 of partition 83 already.
    await handle.db.insert(busOffsets).values({ groupId: ctx.settings.group, topic: topics.cpEvents, partition: 83, nextOffset: 1n });
    const offsets = new AppliedOffsets();
    const [a, b] = await Promise.all([
      runOf(ctx, offsets, 83, [readingAt(moved!, movedSession, 0.5, 0, 1, 83), readingAt(moved!, movedSession, 0.6, 1, 1, 83)]),
      runOf(ctx, offsets, 84, [readingAt(kept!, keptSession, 0.7, 0, 1, 84)]),
    ]);
    const groups = new RunGroups(ctx, 6, 2000);
    const outcomes = await Promise.allSettled([groups.apply(a!.run, a!.tracking), groups.apply(b!.run, b!.tracking)]);
    expect(outcomes[0]!.status).toBe("rejected");
    const reason = (outcomes[0] as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(OffsetMoved);
    expect((reason as OffsetMoved).next).toBe(1n);
    expect(outcomes[1]!.status).toBe("fulfilled");
    expect(transactions).toEqual([1]);
    expect(await appliedAt(83)).toBe(1n);
    expect(await appliedAt(84)).toBe(1n);
    expect((await sessionRow(handle.db, movedSession))?.energyKwh).toBe(0);
    expect((await sessionRow(handle.db, keptSession))?.energyKwh).toBe(0.7);
  });

  test("a message the database refuses undoes the group: the other partitions are applied, and only that message is set aside", async () => {
    const { ctx, transactions } = grouped();
    const [bad, good] = await Promise.all([activeCp("CP_GROUP_BAD"), activeCp("CP_GROUP_GOOD")]);
    const goodSession = await authorisedSession(good!, "D_GROUP_GOOD");
    await handle.db.execute(sql`alter table audit_events add constraint group_test_check check (reason is null or reason not like '%refused by test%')`);
    try {
      const offsets = new AppliedOffsets();
      const lastHeartbeatSeq = async () =>
        Number((await handle.db.select({ seq: chargingPoints.lastHeartbeatSeq }).from(chargingPoints).where(eq(chargingPoints.cpId, bad!.cpId)))[0]?.seq);
      const badBatch = [
        onPartition(bad!.monitor.seal({ type: "engine_status", status: "KO", detail: "refused by test", at: new Date().toISOString() }), 0, 85),
        heartbeatAt(bad!, 1, 85),
      ];
      // Both hold more than readings, so they go in one group (readings alone go apart).
      const goodBatch = [
        onPartition(good!.monitor.seal({ type: "engine_status", status: "OK", detail: "", at: new Date().toISOString() }), 0, 86),
        readingAt(good!, goodSession, 0.9, 1, 1, 86),
      ];
      // Alone, the bad partition's run fails on its data; the good one's goes through.
      const [a, b] = await Promise.all([runOf(ctx, offsets, 85, badBatch), runOf(ctx, offsets, 86, goodBatch)]);
      const groups = new RunGroups(ctx, 6, 2000);
      const outcomes = await Promise.allSettled([groups.apply(a!.run, a!.tracking), groups.apply(b!.run, b!.tracking)]);
      expect(outcomes[0]!.status).toBe("rejected");
      expect(sqlStateOf((outcomes[0] as PromiseRejectedResult).reason)).toBe("23514");
      expect(outcomes[1]!.status).toBe("fulfilled");
      expect(transactions).toEqual([1]);
      expect(await appliedAt(85)).toBeUndefined();
      expect(await appliedAt(86)).toBe(2n);
      expect((await sessionRow(handle.db, goodSession))?.energyKwh).toBe(0.9);
      // The batch handler, grouping as Central does: the message is set aside, the rest applied.
      const handler = createBatchHandler(ctx);
      const nextBeat = heartbeatAt(bad!, 2, 85);
      await Promise.all([handler([...badBatch, nextBeat]), handler([readingAt(good!, goodSession, 1.0, 2, 1, 86)])]);
      expect(await appliedAt(85)).toBe(3n);
      expect(await appliedAt(86)).toBe(3n);
      expect(await lastHeartbeatSeq()).toBe(fieldsOf(nextBeat.value).seq);
      expect(await cpStatus(handle.db, bad!.cpId)).toBe("ACTIVE");
      expect((await sessionRow(handle.db, goodSession))?.energyKwh).toBe(1.0);
      const letters = rowsOf<{ partition: number; offset: string; code: string }>(
        await handle.db.execute(
          sql`select partition, "offset"::text as "offset", code from dead_letters where topic = ${topics.cpEvents} and partition in (85, 86)`,
        ),
      );
      expect(letters).toEqual([{ partition: 85, offset: "0", code: "23514" }]);
    } finally {
      await handle.db.execute(sql`alter table audit_events drop constraint if exists group_test_check`);
    }
  });
});

describe("operators and weather", () => {
  test("an operator stop ends the session and refuses charges until resumed", async () => {
    const cp = await activeCp("CP_OP");
    const sessionId = await authorisedSession(cp, "D_OP");
    await publishControl(bus, topics, { type: "operator_stop", cp_id: "CP_OP", actor_id: "admin", reason: "maintenance", at: new Date().toISOString() });
    await waitFor(async () => (await cpStatus(handle.db, "CP_OP")) === "STOPPED", "STOPPED");
    expect(await ticketOf(sessionId)).toMatchObject({ end_reason: "operator_stop" });
    expect(await answerTo(await ask("D_OP", "CP_OP"))).toMatchObject({ code: "cp_stopped" });
    await publishControl(bus, topics, { type: "operator_resume", cp_id: "CP_OP", actor_id: "admin", reason: "", at: new Date().toISOString() });
    await waitFor(async () => (await cpStatus(handle.db, "CP_OP")) === "ACTIVE", "ACTIVE");
  });

  test("a frost alert takes idle CPs out of service at once and supplying ones after their session", async () => {
    const idle = await activeCp("CP_OSLO_1", { location: "Oslo" });
    const busy = await activeCp("CP_OSLO_2", { location: "oslo " });
    const sessionId = await authorisedSession(busy, "D_OSLO");
    await handle.db.insert(cityWeather).values({ city: "Oslo", temperatureC: -5, alert: true, alertSince: new Date() });
    await publishControl(bus, topics, { type: "city_temperature", city: "Oslo", alert: true, reported_at: new Date().toISOString() });
    await waitFor(async () => (await cpStatus(handle.db, idle.cpId)) === "OUT_OF_SERVICE", "idle CP out of service");
    expect(await cpStatus(handle.db, busy.cpId)).toBe("SUPPLYING");
    await ask("D_OSLO", busy.cpId, "stop_request");
    await busy.fromEngine({
      type: "supply_ended",
      session_id: sessionId,
      reason: "driver_stop",
      power_kw: 0,
      energy_kwh: 0.1,
      cost_eur: 0.03,
      started_at: new Date().toISOString(),
      ended_at: new Date().toISOString(),
    });
    expect((await ticketOf(sessionId)).end_reason).toBe("driver_stop");
    await waitFor(async () => (await cpStatus(handle.db, busy.cpId)) === "OUT_OF_SERVICE", "busy CP out of service after its session");
    await handle.db.update(cityWeather).set({ temperatureC: 3, alert: false }).where(eq(cityWeather.city, "Oslo"));
    await publishControl(bus, topics, { type: "city_temperature", city: "Oslo", alert: false, reported_at: new Date().toISOString() });
    await waitFor(
      async () => (await cpStatus(handle.db, idle.cpId)) === "ACTIVE" && (await cpStatus(handle.db, busy.cpId)) === "ACTIVE",
      "both back in service",
    );
    const [row] = await handle.db.select().from(chargingPoints).where(eq(chargingPoints.cpId, idle.cpId));
    expect(row?.statusReason).toContain("weather alert cancelled");
  });
});
