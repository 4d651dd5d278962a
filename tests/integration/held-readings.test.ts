/**
 * Readings held back from their sessions' rows (CENTRAL_READINGS_INTERVAL), over the real Kafka
 * and PostgreSQL: drivers' progress does not wait for the row, the row is written once the
 * interval passed, the offset Central commits stays at the earliest reading not written (and
 * moves on once it is), a session that closes meanwhile is billed with the reading held, a
 * Central killed with readings held leaves them to the next one, which reads them again from
 * the bus and writes them without auditing anything twice, and a clean stop writes them first.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { KafkaBus } from "../../src/bus/kafka.ts";
import { LIVE_SIGNER, signLiveFigures } from "../../src/bus/live-figures.ts";
import type { Authorised, Progress, TicketMessage } from "../../src/bus/messages.ts";
import { allTopics, type Topics, topicsFor } from "../../src/bus/topics.ts";
import { loadConfig } from "../../src/config/env.ts";
import { parseMasterKey } from "../../src/crypto/keys.ts";
import { createMessageSigner } from "../../src/crypto/signed-messages.ts";
import { type Database, openDatabase, rowsOf } from "../../src/db/client.ts";
import { apiConfigSchema } from "../../src/roles/api/config.ts";
import { start as startApiRole } from "../../src/roles/api/index.ts";
import type { SessionView } from "../../src/roles/api/shapes.ts";
import { centralConfigSchema } from "../../src/roles/central/config.ts";
import { type RunningCentral, start } from "../../src/roles/central/index.ts";
import { groupName } from "../../src/roles/group-names.ts";
import { getJson, TEST_OPERATOR_TOKEN, TEST_SERVICE_TOKEN } from "../support/api-server.ts";
import { controlKeyEnv, controlKeys, testSigner } from "../support/control.ts";
import { withFlippedBit } from "../support/envelopes.ts";
import { newMasterKeyHex } from "../support/identity.ts";
import { announceAuthenticated, auditsOf, registerAndKey, StandInCp, StandInDrivers, sessionRow } from "../support/network.ts";
import { type RoleProcess, spawnRole } from "../support/processes.ts";
import { createTestDatabase, kafkaBrokers, type TestDatabase, testTopicPrefix } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

const masterHex = newMasterKeyHex();
const masterKey = parseMasterKey(masterHex);

/** A network of the test's own: a database, topics (two partitions) and stand-in drivers. */
interface Network {
  prefix: string;
  topics: Topics;
  database: TestDatabase;
  handle: Database;
  bus: KafkaBus;
  drivers: StandInDrivers;
  cps: StandInCp[];
}

async function newNetwork(): Promise<Network> {
  const prefix = testTopicPrefix();
  const topics = topicsFor(prefix);
  const database = await createTestDatabase();
  const handle = await openDatabase({ url: database.url, maxConnections: 4 });
  const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: "held-readings-test", partitions: 2, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 });
  await bus.ensureTopics(allTopics(topics));
  const drivers = new StandInDrivers(bus, topics, handle.db, masterKey);
  await drivers.listen(`${prefix}-drivers`);
  return { prefix, topics, database, handle, bus, drivers, cps: [] };
}

async function closeNetwork(n: Network | undefined): Promise<void> {
  if (!n) return;
  for (const cp of n.cps) await cp.close();
  await n.drivers.close();
  await n.bus.close();
  await n.handle.close();
  await n.database.drop();
}

/** Central's settings for a network, on top of the test's. */
function centralEnv(n: Network, readingsIntervalS: number): Record<string, string> {
  return {
    DATABASE_URL: n.database.url,
    KAFKA_BROKERS: kafkaBrokers().join(","),
    EVNET_TOPIC_PREFIX: n.prefix,
    EVNET_MASTER_KEY: masterHex,
    ...controlKeyEnv(),
    CENTRAL_READINGS_INTERVAL: String(readingsIntervalS),
    CENTRAL_PROGRESS_INTERVAL: "0",
    CENTRAL_SESSION_END_GRACE: "1",
    CENTRAL_SWEEP_INTERVAL: "0.2",
  };
}

function startCentral(n: Network, readingsIntervalS: number, instance: string): Promise<RunningCentral> {
  const config = loadConfig(centralConfigSchema, {}, { ...centralEnv(n, readingsIntervalS), CENTRAL_INSTANCE_ID: instance });
  return start(config, { database: n.handle, bus: n.bus });
}

async function activeCp(n: Network, cpId: string): Promise<StandInCp> {
  const key = await registerAndKey(n.handle.db, masterKey, cpId, { price: 0.5 });
  const cp = new StandInCp(n.bus, n.topics, cpId, key);
  await cp.listen(`${n.prefix}-engine-${cpId}`);
  n.cps.push(cp);
  await announceAuthenticated(n.bus, n.topics, cpId, key);
  await cp.heartbeat(30);
  await waitFor(
    async () => rowsOf<{ status: string }>(await n.handle.db.execute(sql`select status from charging_points where cp_id = ${cpId}`))[0]?.status === "ACTIVE",
    `${cpId} ACTIVE`,
    { timeoutMs: 30_000 },
  );
  return cp;
}

/** A session authorised for the driver at the CP, whose engine confirmed the start. */
async function chargingSession(n: Network, cp: StandInCp, driverId: string): Promise<string> {
  const requestId = await n.drivers.ask(driverId, cp.cpId);
  let answer: Authorised | undefined;
  await waitFor(
    () => (answer = n.drivers.updates.find((u) => u.type === "authorised" && u.request_id === requestId) as Authorised | undefined) !== undefined,
    `${driverId} authorised`,
    { timeoutMs: 30_000 },
  );
  const sessionId = answer!.session_id;
  await waitFor(() => cp.commands.some((c) => c.type === "start_supply" && c.session_id === sessionId), "start_supply at the engine");
  await cp.fromEngine({ type: "supply_started", session_id: sessionId });
  // Applied before any reading is sent: readings that share a batch with another event of their
  // CP go to the row at once (cp-events.ts), which would make what the tests see depend on timing.
  await waitFor(async () => (await sessionRow(n.handle.db, sessionId))?.supplyStartedAt != null, "supply_started applied");
  return sessionId;
}

function reading(sessionId: string, energyKwh: number, elapsedS: number) {
  return { type: "telemetry", session_id: sessionId, power_kw: 11, energy_kwh: energyKwh, cost_eur: 0, elapsed_s: elapsedS };
}

/** Waits for the driver's live progress to show at least this energy. */
async function progressShows(n: Network, driverId: string, energyKwh: number): Promise<Progress> {
  let found: Progress | undefined;
  await waitFor(
    () => (found = n.drivers.of(driverId, "progress").find((u) => (u as Progress).energy_kwh >= energyKwh) as Progress | undefined) !== undefined,
    `${driverId}'s progress at ${energyKwh} kWh`,
    { timeoutMs: 20_000 },
  );
  return found!;
}

async function ticketOf(n: Network, sessionId: string): Promise<TicketMessage> {
  let found: TicketMessage | undefined;
  await waitFor(
    () => (found = n.drivers.updates.find((u) => u.type === "ticket" && u.session_id === sessionId) as TicketMessage | undefined) !== undefined,
    `the ticket of ${sessionId}`,
    { timeoutMs: 20_000 },
  );
  return found!;
}

/** The group's lag on the CP events: messages after the offset Central committed. */
async function committedLag(n: Network): Promise<number> {
  return (await n.bus.lag(groupName(n.prefix, "central"), [n.topics.cpEvents])).total;
}

async function samplesOf(n: Network, sessionId: string): Promise<number[]> {
  const rows = await n.handle.db.execute(sql`select energy_kwh from session_samples where session_id = ${sessionId} order by at`);
  return rowsOf<{ energy_kwh: number }>(rows).map((r) => r.energy_kwh);
}

/** Audit entries that call one of the CP's messages replayed. */
async function replaysAudited(n: Network, cpId: string): Promise<number> {
  return (await auditsOf(n.handle.db, `cp/${cpId}`)).filter((a) => a.reason?.startsWith("replayed")).length;
}

/** Audit entries that call one of the CP's messages tampered. */
async function tamperedAudited(n: Network, cpId: string): Promise<number> {
  return (await auditsOf(n.handle.db, `cp/${cpId}`)).filter((a) => a.reason?.startsWith("tampered")).length;
}

describe("readings held for 3 s", () => {
  let n: Network;
  let central: RunningCentral;
  let api: { url: string; stop(): Promise<void> };

  beforeAll(async () => {
    n = await newNetwork();
    central = await startCentral(n, 3, "held-3s");
    api = await startApi(n);
  }, 90_000);

  afterAll(async () => {
    await api?.stop();
    await central?.stop();
    await closeNetwork(n);
  });

  test("reach the driver at once and the row after the interval; the commit waits for them", async () => {
    const cp = await activeCp(n, "CP_HOLD");
    const sessionId = await chargingSession(n, cp, "D_HOLD");
    // The commit of what came before (start, heartbeats) is through: nothing else waits.
    await waitFor(async () => (await committedLag(n)) === 0, "the lag at 0 before the readings", { timeoutMs: 20_000 });
    for (const [i, energy] of [0.1, 0.2, 0.3].entries()) await cp.fromEngine(reading(sessionId, energy, i + 1));
    const live = await progressShows(n, "D_HOLD", 0.3);
    expect(live).toMatchObject({ session_id: sessionId, energy_kwh: 0.3, cost_eur: 0.15 });
    const seenAt = performance.now();
    // Held: the row has not got it yet, and the offset committed stays at the reading.
    expect((await sessionRow(n.handle.db, sessionId))?.energyKwh).toBe(0);
    expect(central.ctx.held?.get(sessionId)).toMatchObject({ energyKwh: 0.3, costEur: 0.15 });
    await Bun.sleep(800); // more than a commit interval and the re-commit timer
    expect(await committedLag(n)).toBeGreaterThan(0);
    // Then written, sampled for the charts, and the commit moves past it.
    await waitFor(async () => (await sessionRow(n.handle.db, sessionId))?.energyKwh === 0.3, "the reading in the row", { timeoutMs: 15_000 });
    expect(performance.now() - seenAt).toBeGreaterThan(1500);
    const row = await sessionRow(n.handle.db, sessionId);
    expect(row).toMatchObject({ energyKwh: 0.3, costEur: 0.15, powerKw: 11, status: "IN_PROGRESS" });
    expect(row?.lastTelemetrySeq).toBeGreaterThan(0);
    expect(await samplesOf(n, sessionId)).toEqual([0.3]);
    expect(central.ctx.held?.get(sessionId)).toBeUndefined();
    await waitFor(async () => (await committedLag(n)) === 0, "the lag at 0 once written", { timeoutMs: 10_000 });
    expect(await replaysAudited(n, "CP_HOLD")).toBe(0);
  }, 90_000);

  test("a copy of a reading sent again is refused and audited while the first is held", async () => {
    const cp = n.cps.find((c) => c.cpId === "CP_HOLD")!;
    const sessionId = (await activeSessionOf(n, "CP_HOLD"))!;
    const genuine = cp.engine.seal({ ...reading(sessionId, 0.4, 4), at: new Date().toISOString() });
    await n.bus.publish(n.topics.cpEvents, [genuine]);
    await progressShows(n, "D_HOLD", 0.4);
    await n.bus.publish(n.topics.cpEvents, [genuine]);
    await waitFor(async () => (await replaysAudited(n, "CP_HOLD")) === 1, "the copy audited as replayed", { timeoutMs: 15_000 });
    await waitFor(async () => (await sessionRow(n.handle.db, sessionId))?.energyKwh === 0.4, "the genuine reading in the row", { timeoutMs: 15_000 });
  }, 60_000);

  test("the API shows a held reading's figures before its row has them, and the row once the session ended", async () => {
    const cp = await activeCp(n, "CP_LIVE");
    const sessionId = await chargingSession(n, cp, "D_LIVE");
    for (const [i, energy] of [0.1, 0.2, 0.3].entries()) await cp.fromEngine(reading(sessionId, energy, i + 1));
    // Central's live figures reach the API within a fraction of the 3 s the row waits.
    const shown = await apiShows(api, sessionId, (s) => s.energy_kwh === 0.3, 2_500);
    expect(shown).toMatchObject({ status: "IN_PROGRESS", energy_kwh: 0.3, cost_eur: 0.15, power_kw: 11 });
    expect((await sessionRow(n.handle.db, sessionId))?.energyKwh).toBe(0);
    // So do the list and its totals, the driver's totals and the network's figures.
    const list = await getJson(api, "/ev/central/sessions?status=IN_PROGRESS&cp_id=CP_LIVE", operator);
    expect(list.body.sessions[0]).toMatchObject({ session_id: sessionId, energy_kwh: 0.3 });
    expect(list.body.totals).toMatchObject({ sessions: 1, energy_kwh: 0.3, cost_eur: 0.15 });
    expect((await getJson(api, "/ev/central/drivers/D_LIVE", operator)).body.driver).toMatchObject({ energy_kwh_total: 0.3, cost_eur_total: 0.15 });
    const summary = (await getJson(api, "/ev/central/summary", operator)).body.summary;
    expect(summary.energy_in_progress_kwh).toBeGreaterThanOrEqual(0.3);
    expect(summary.energy_last_day_kwh).toBeGreaterThanOrEqual(0.3);
    expect((await sessionRow(n.handle.db, sessionId))?.energyKwh).toBe(0); // all that before the row has it
    // The session ends (the engine does not answer: Central closes it after the grace): its row
    // is final, whatever live figures the API still holds.
    await n.drivers.ask("D_LIVE", "CP_LIVE", "stop_request", { session_id: sessionId });
    const ticket = await ticketOf(n, sessionId);
    const ended = await apiShows(api, sessionId, (s) => s.status === "FINISHED", 15_000);
    expect(ended).toMatchObject({ energy_kwh: ticket.energy_kwh, cost_eur: ticket.cost_eur });
  }, 90_000);

  test("live figures that fail their checks are refused and audited; older ones change nothing", async () => {
    const cp = await activeCp(n, "CP_FORGE");
    const sessionId = await chargingSession(n, cp, "D_FORGE");
    await cp.fromEngine(reading(sessionId, 0.5, 1));
    await apiShows(api, sessionId, (s) => s.energy_kwh === 0.5, 2_500);
    const figures = (energy: number) => [{ session_id: sessionId, cp_id: "CP_FORGE", power_kw: 11, energy_kwh: energy, cost_eur: energy / 2 }];
    const { privateKey } = generateKeyPairSync("ed25519");
    const stranger = createMessageSigner(privateKey.export({ type: "pkcs8", format: "pem" }).toString(), LIVE_SIGNER);
    const centralKey = createMessageSigner(readFileSync(controlKeys.privateKeyFile, "utf8"), LIVE_SIGNER);
    const forged = signLiveFigures(stranger, figures(99))[0]!;
    const notCentral = signLiveFigures(testSigner, figures(98))[0]!;
    const stale = signLiveFigures(centralKey, figures(97), Date.now() - 5 * 60_000)[0]!;
    const altered = signLiveFigures(centralKey, figures(96))[0]!;
    const older = signLiveFigures(centralKey, figures(0.25))[0]!;
    // The figure itself altered (energy 96 → 95 in the signed body): a bare "96" could as well
    // be in the header's key id, which would make it another signer's message.
    const alteredValue = String(altered.value);
    expect(alteredValue).toContain(",96,48]");
    const tampered = { key: altered.key, value: alteredValue.replace(",96,48]", ",95,48]") };
    await n.bus.publish(n.topics.centralLive, [forged, notCentral, stale, tampered, older]);
    await waitFor(async () => (await liveRefusals(n)).length === 4, "four live messages refused and audited", { timeoutMs: 15_000 });
    expect((await liveRefusals(n)).map((r) => r.reason?.split(":")[0]).sort()).toEqual(["bad_signature", "stale", "unknown_signer", "wrong_signer"]);
    // A genuine message published after them is shown, so they were all read: none took the figures.
    await n.bus.publish(n.topics.centralLive, signLiveFigures(centralKey, figures(0.6)));
    const shown = await apiShows(api, sessionId, (s) => s.energy_kwh >= 0.6, 10_000);
    expect(shown.energy_kwh).toBe(0.6);
    await n.bus.publish(n.topics.centralLive, [signLiveFigures(centralKey, figures(0.55))[0]!]);
    await Bun.sleep(500);
    expect((await getJson(api, `/ev/central/sessions/${sessionId}`, operator)).body.session.energy_kwh).toBe(0.6);
  }, 90_000);
});

const operator = { headers: { authorization: `Bearer ${TEST_OPERATOR_TOKEN}` } };

/** The API in this process, on the network's database and bus, with the control keys. */
async function startApi(n: Network): Promise<{ url: string; stop(): Promise<void> }> {
  const config = loadConfig(
    apiConfigSchema,
    {},
    {
      DATABASE_URL: n.database.url,
      KAFKA_BROKERS: kafkaBrokers().join(","),
      EVNET_TOPIC_PREFIX: n.prefix,
      API_PORT: "0",
      EVNET_OPERATOR_TOKEN: TEST_OPERATOR_TOKEN,
      EVNET_SERVICE_TOKEN: TEST_SERVICE_TOKEN,
      EVNET_MASTER_KEY: masterHex,
      ...controlKeyEnv(),
    },
  );
  return startApiRole(config, { database: n.handle, bus: n.bus });
}

/** Polls the API's view of a session until `ok` holds (or fails after `timeoutMs`). */
async function apiShows(api: { url: string }, sessionId: string, ok: (s: SessionView) => boolean, timeoutMs: number): Promise<SessionView> {
  let seen: SessionView | undefined;
  await waitFor(
    async () => {
      const res = await getJson(api, `/ev/central/sessions/${sessionId}`, operator);
      seen = res.body?.session;
      return seen !== undefined && ok(seen);
    },
    `the API's view of ${sessionId}`,
    { timeoutMs, everyMs: 25 },
  ).catch((err) => {
    throw new Error(`${err instanceof Error ? err.message : err}; last seen ${JSON.stringify(seen)}`);
  });
  return seen!;
}

async function liveRefusals(n: Network): Promise<{ reason: string | null }[]> {
  return rowsOf<{ reason: string | null }>(
    await n.handle.db.execute(sql`select reason from audit_events where action = 'live_figures' and outcome = 'failure' and event_type = 'security'`),
  );
}

async function activeSessionOf(n: Network, cpId: string): Promise<string | undefined> {
  return rowsOf<{ session_id: string }>(
    await n.handle.db.execute(sql`select session_id from charging_sessions where cp_id = ${cpId} and status = 'IN_PROGRESS'`),
  )[0]?.session_id;
}

describe("readings held for a minute", () => {
  let n: Network;
  let process: RoleProcess | undefined;
  let central: RunningCentral | undefined;
  const dir = join(tmpdir(), `evnet-held-${Date.now()}`);

  beforeAll(async () => {
    n = await newNetwork();
    // Central as its own process, to be killed.
    process = spawnRole("central", ["central", "--no-menu"], { ...centralEnv(n, 60), EVNET_DATA_DIR: dir, CENTRAL_INSTANCE_ID: "held-killed" });
    await process.waitForLine(/central ready/, 90_000);
  }, 120_000);

  afterAll(async () => {
    process?.proc.kill("SIGKILL");
    await central?.stop();
    await closeNetwork(n);
    rmSync(dir, { recursive: true, force: true });
  });

  test("a session that closes meanwhile is billed with the reading held", async () => {
    const cp = await activeCp(n, "CP_BILL");
    const sessionId = await chargingSession(n, cp, "D_BILL");
    await cp.fromEngine(reading(sessionId, 1.25, 10));
    await progressShows(n, "D_BILL", 1.25);
    expect((await sessionRow(n.handle.db, sessionId))?.energyKwh).toBe(0);
    // The driver stops; the engine never answers: after the grace, Central closes the session
    // with the last reading it has, the one held.
    await n.drivers.ask("D_BILL", "CP_BILL", "stop_request", { session_id: sessionId });
    const ticket = await ticketOf(n, sessionId);
    expect(ticket).toMatchObject({ energy_kwh: 1.25, cost_eur: 0.63, price_per_kwh: 0.5 });
    expect(await sessionRow(n.handle.db, sessionId)).toMatchObject({ status: "FINISHED", energyKwh: 1.25, costEur: 0.63 });
  }, 90_000);

  test("a Central killed with readings held leaves them to the next, which writes them once", async () => {
    const cp = await activeCp(n, "CP_KILL");
    const sessionId = await chargingSession(n, cp, "D_KILL");
    for (const [i, energy] of [0.5, 0.75].entries()) await cp.fromEngine(reading(sessionId, energy, i + 1));
    await progressShows(n, "D_KILL", 0.75);
    // A tampered reading after the one held (so read again with it): refused and audited once, when first read.
    const tampered = cp.engine.seal({ ...reading(sessionId, 5, 3), at: new Date().toISOString() });
    await n.bus.publish(n.topics.cpEvents, [{ key: tampered.key, value: withFlippedBit(tampered.value) }]);
    await waitFor(async () => (await tamperedAudited(n, "CP_KILL")) === 1, "the tampered reading audited");
    await Bun.sleep(1000); // its commits go out meanwhile: they stop at the held reading
    expect((await sessionRow(n.handle.db, sessionId))?.energyKwh).toBe(0);
    expect(await committedLag(n)).toBeGreaterThan(0);
    process!.proc.kill("SIGKILL");
    await process!.proc.exited;
    process = undefined;
    // The next Central reads the partition again from the committed offset: the reading, below
    // the applied offset, is written; the start and the rest are not applied twice.
    central = await startCentral(n, 60, "held-next");
    await waitFor(async () => (await sessionRow(n.handle.db, sessionId))?.energyKwh === 0.75, "the held reading written by the next Central", {
      timeoutMs: 30_000,
    });
    expect(await sessionRow(n.handle.db, sessionId)).toMatchObject({ status: "IN_PROGRESS", energyKwh: 0.75, costEur: 0.38 });
    await waitFor(async () => (await committedLag(n)) === 0, "the lag at 0 once the readings are written", { timeoutMs: 15_000 });
    expect(await replaysAudited(n, "CP_KILL")).toBe(0);
    // Read again, the tampered one is refused without a second audit entry.
    expect(await tamperedAudited(n, "CP_KILL")).toBe(1);
    expect((await auditsOf(n.handle.db, "cp/CP_KILL")).filter((a) => a.action === "start_session")).toHaveLength(1);
    const starts = cp.commands.filter((c) => c.type === "start_supply" && c.session_id === sessionId);
    expect(starts).toHaveLength(1);

    // The session goes on under the new Central, held again, and a clean stop writes it first.
    await cp.fromEngine(reading(sessionId, 0.9, 4));
    await progressShows(n, "D_KILL", 0.9);
    expect((await sessionRow(n.handle.db, sessionId))?.energyKwh).toBe(0.75);
    await central.stop();
    central = undefined;
    expect((await sessionRow(n.handle.db, sessionId))?.energyKwh).toBe(0.9);
    expect(await committedLag(n)).toBe(0);
  }, 150_000);
});
