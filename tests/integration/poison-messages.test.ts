/**
 * No message stalls Central, over the real Kafka and PostgreSQL, with every topic on ONE
 * partition (so every CP shares it): a message whose data the database refuses for good (a
 * NUL, a constraint it breaks) or that fails validation is set aside as a dead letter (stored,
 * audited, copied to the dead-letter topic with where it came from and why) and the partition's
 * next message is applied within seconds; a database outage is waited out, losing nothing; an
 * operator's replay of a dead letter is applied once the cause is fixed, and only then.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { createAuditor } from "../../src/audit/audit.ts";
import type { BusMessage, Subscription } from "../../src/bus/bus.ts";
import { KafkaBus } from "../../src/bus/kafka.ts";
import { allTopics, topicsFor } from "../../src/bus/topics.ts";
import { loadConfig } from "../../src/config/env.ts";
import { parseMasterKey } from "../../src/crypto/keys.ts";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { DEAD_LETTER_HEADERS } from "../../src/dead-letters/messages.ts";
import { replayDeadLetter } from "../../src/dead-letters/replay.ts";
import { createLogger, type Logger } from "../../src/lib/log.ts";
import { apiConfigSchema } from "../../src/roles/api/config.ts";
import { start as startApi } from "../../src/roles/api/index.ts";
import { centralConfigSchema } from "../../src/roles/central/config.ts";
import { type RunningCentral, start } from "../../src/roles/central/index.ts";
import { controlKeyEnv, operatorCommand, publishControl } from "../support/control.ts";
import { newMasterKeyHex, OPERATOR_TOKEN as OPERATOR, SERVICE_TOKEN } from "../support/identity.ts";
import { announceAuthenticated, cpStatus, registerAndKey, StandInCp, StandInDrivers } from "../support/network.ts";
import { spawnRole } from "../support/processes.ts";
import { createTestDatabase, kafkaBrokers, type TestDatabase, testTopicPrefix } from "../support/services.ts";
import { TcpProxy } from "../support/tcp-proxy.ts";
import { waitFor } from "../support/wait.ts";

const masterHex = newMasterKeyHex();
const masterKey = parseMasterKey(masterHex);
const prefix = testTopicPrefix();
const topics = topicsFor(prefix);
/** Applied within seconds: well under the minute a stalled partition would take to look stuck. */
const SECONDS = { timeoutMs: 10_000 };
let database: TestDatabase;
let direct: Database;
let sql: postgres.Sql;
let proxy: TcpProxy;
let throughProxy: Database;
let bus: KafkaBus;
let central: RunningCentral;
let drivers: StandInDrivers;
let deadLetterReader: Subscription;
const onDeadLetterTopic: BusMessage[] = [];
const cps = new Map<string, StandInCp>();
/** What Central warned of, by message. */
const warnings: string[] = [];

function recordingWarnings(log: Logger): Logger {
  return {
    ...log,
    warn: (message, fields) => {
      warnings.push(message);
      log.warn(message, fields);
    },
    child: (role) => recordingWarnings(log.child(role)),
  };
}

beforeAll(async () => {
  database = await createTestDatabase();
  direct = await openDatabase({ url: database.url, maxConnections: 3 });
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
  const target = new URL(database.url);
  proxy = new TcpProxy(target.hostname, Number(target.port));
  proxy.start();
  const viaProxy = new URL(database.url);
  viaProxy.port = String(proxy.port);
  throughProxy = await openDatabase({ url: viaProxy.toString(), maxConnections: 4 });
  bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: "poison-test", partitions: 1, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 });
  await bus.ensureTopics(allTopics(topics));
  const config = loadConfig(
    centralConfigSchema,
    {},
    {
      EVNET_MASTER_KEY: masterHex,
      ...controlKeyEnv(),
      EVNET_TOPIC_PREFIX: prefix,
      KAFKA_BROKERS: kafkaBrokers().join(","),
      CENTRAL_INSTANCE_ID: "poison-test",
      // Batches of 20,000 (the default), set here so that the burst below fills them whatever the default becomes.
      CENTRAL_MAX_BATCH: "20000",
    },
  );
  central = await start(config, { database: throughProxy, bus, log: recordingWarnings(createLogger("central")) });
  drivers = new StandInDrivers(bus, topics, direct.db, masterKey);
  await drivers.listen(`${prefix}-drivers`);
  deadLetterReader = await bus.subscribe({ topics: [topics.deadLetters], groupId: `${prefix}-dead-letters`, from: "earliest" }, async (batch) => {
    onDeadLetterTopic.push(...batch);
  });
  for (const cpId of ["CP_A", "CP_B", "CP_C"]) {
    const key = await registerAndKey(direct.db, masterKey, cpId);
    const cp = new StandInCp(bus, topics, cpId, key);
    cps.set(cpId, cp);
    await announceAuthenticated(bus, topics, cpId, key);
    await cp.heartbeat(30);
  }
  for (const cpId of cps.keys()) await waitFor(async () => (await cpStatus(direct.db, cpId)) === "ACTIVE", `${cpId} ACTIVE`, { timeoutMs: 30_000 });
}, 90_000);

afterAll(async () => {
  await deadLetterReader?.close();
  await drivers?.close();
  await central?.stop();
  await bus?.close();
  await throughProxy?.close();
  proxy?.cut();
  await sql?.end();
  await direct?.close();
  await database?.drop();
});

function apiConfig() {
  return loadConfig(
    apiConfigSchema,
    {},
    {
      DATABASE_URL: database.url,
      EVNET_TOPIC_PREFIX: prefix,
      API_PORT: "0",
      EVNET_OPERATOR_TOKEN: OPERATOR,
      EVNET_SERVICE_TOKEN: SERVICE_TOKEN,
      EVNET_MASTER_KEY: masterHex,
      ...controlKeyEnv(),
    },
  );
}

async function deadLetters() {
  return sql`select id::int as id, topic, partition, "offset", code, reason, status, replay_of::int as replay_of from dead_letters order by id`;
}

/** The dead letter set aside for a message of `topic`, once there is one more than `before`. */
async function newDeadLetter(before: number, topic: string) {
  let rows: postgres.RowList<postgres.Row[]> | undefined;
  await waitFor(async () => (rows = await deadLetters()).length > before, `a dead letter from ${topic}`, SECONDS);
  const letter = rows!.at(-1)!;
  expect(letter.topic).toBe(topic);
  return letter;
}

/** The copy of a dead letter on the dead-letter topic. */
async function onTopic(id: number): Promise<BusMessage> {
  let found: BusMessage | undefined;
  await waitFor(() => (found = onDeadLetterTopic.find((m) => m.headers?.[DEAD_LETTER_HEADERS.id] === String(id))) !== undefined, "the dead-letter topic copy");
  return found!;
}

/** The body of a signed control message, as sent. */
function signedBody(wire: Uint8Array | string): string {
  return JSON.parse(typeof wire === "string" ? wire : new TextDecoder().decode(wire)).body;
}

async function resetState(cpId: string): Promise<void> {
  await publishControl(bus, topics, operatorCommand("operator_resume", cpId));
  await waitFor(async () => (await cpStatus(direct.db, cpId)) === "ACTIVE", `${cpId} ACTIVE again`, SECONDS);
}

describe("a message the database refuses for good", () => {
  test("a control message with a NUL is set aside, and the partition's next message is applied within seconds", async () => {
    const before = (await deadLetters()).length;
    await publishControl(bus, topics, operatorCommand("operator_stop", "CP_A", "a\u0000b"));
    await publishControl(bus, topics, operatorCommand("operator_stop", "CP_B", "maintenance"));
    await waitFor(async () => (await cpStatus(direct.db, "CP_B")) === "STOPPED", "CP_B stopped by the message after the bad one", SECONDS);
    expect(await cpStatus(direct.db, "CP_A")).toBe("ACTIVE");

    const letter = await newDeadLetter(before, topics.centralControl);
    expect(letter.status).toBe("set_aside");
    expect(letter.reason).not.toContain("\u0000");
    const copy = await onTopic(letter.id);
    expect(copy.key).toBe("CP_A");
    expect(copy.headers).toMatchObject({
      [DEAD_LETTER_HEADERS.topic]: topics.centralControl,
      [DEAD_LETTER_HEADERS.partition]: "0",
      [DEAD_LETTER_HEADERS.offset]: String(letter.offset),
      [DEAD_LETTER_HEADERS.code]: letter.code,
    });
    expect(Date.parse(copy.headers![DEAD_LETTER_HEADERS.at]!)).toBeGreaterThan(Date.now() - 60_000);
    expect(signedBody(copy.value)).toContain("a\\u0000b"); // the original bytes
    const [audit] = await sql`select * from audit_events where action = 'set_aside_message' and resource = ${`dead-letter/${letter.id}`}`;
    expect(audit).toMatchObject({ event_type: "error", outcome: "failure" });
    await resetState("CP_B");
  });

  test("a driver request with a NUL is set aside, and the next driver request on the partition is answered", async () => {
    const before = (await deadLetters()).length;
    const at = new Date().toISOString();
    await drivers.send("D_NUL", "CP_A", { type: "charge_request", request_id: "r\u0000nul", driver_id: "D_NUL", cp_id: "CP_A", at });
    await drivers.send("D_OK", "CP_B", { type: "charge_request", request_id: "r-after-nul", driver_id: "D_OK", cp_id: "CP_B", at });
    await waitFor(() => drivers.of("D_OK").some((u) => u.type === "authorised"), "D_OK authorised after the bad request", SECONDS);
    const letter = await newDeadLetter(before, topics.driverRequests);
    expect(letter.status).toBe("set_aside");
    await drivers.send("D_OK", "CP_B", { type: "stop_request", request_id: "r-stop-ok", driver_id: "D_OK", cp_id: "CP_B", at: new Date().toISOString() });
  });

  test("a CP event whose envelope carries a NUL is refused, and the CP events after it are applied", async () => {
    const value = JSON.stringify({
      v: 2,
      sub: "cp:CP_A",
      kid: "k_\u0000",
      sender: "engine:CP_A",
      seq: 1,
      ts: Date.now(),
      nonce: "AAAAAAAAAAAAAAAA",
      ct: "AAAA",
    });
    await bus.publish(topics.cpEvents, [{ key: "CP_A", value }]);
    await cps.get("CP_C")!.fromMonitor({ type: "engine_status", status: "KO", detail: "fault after the bad envelope" });
    await waitFor(async () => (await cpStatus(direct.db, "CP_C")) === "BROKEN", "CP_C broken by the event after the bad one", SECONDS);
    await cps.get("CP_C")!.fromMonitor({ type: "engine_status", status: "OK", detail: "recovered" });
    await waitFor(async () => (await cpStatus(direct.db, "CP_C")) === "ACTIVE", "CP_C recovered", SECONDS);
  });

  test("a message that breaks a database constraint is set aside with its SQLSTATE; replayed once the cause is fixed, it is applied once", async () => {
    await sql`alter table charging_points add constraint test_reason_check check (status_reason is null or status_reason not like '%forbidden%')`;
    await sql`alter table audit_events add constraint test_audit_check check (reason is null or reason not like '%forbidden%')`;
    try {
      const before = (await deadLetters()).length;
      await cps.get("CP_A")!.fromMonitor({ type: "engine_status", status: "KO", detail: "forbidden" });
      await cps.get("CP_A")!.heartbeat(30);
      await publishControl(bus, topics, operatorCommand("operator_stop", "CP_B", "allowed"));
      await waitFor(async () => (await cpStatus(direct.db, "CP_B")) === "STOPPED", "CP_B stopped after the bad message", SECONDS);
      const letter = await newDeadLetter(before, topics.cpEvents);
      expect(letter.code).toBe("23514");
      expect(await cpStatus(direct.db, "CP_A")).toBe("ACTIVE");
      await resetState("CP_B");

      // A copy that claims to replay it, without an operator's replay, is refused.
      const copy = await onTopic(letter.id);
      await bus.publish(topics.cpEvents, [{ key: copy.key, value: copy.value, headers: { "evnet-replay-of": String(letter.id) } }]);
      await waitFor(
        async () => (await sql`select 1 from audit_events where action = 'replay_message' and outcome = 'failure'`).length > 0,
        "the forged replay refused",
      );

      await sql`alter table audit_events drop constraint test_audit_check`;
      await sql`alter table charging_points drop constraint test_reason_check`;
      const log = createLogger("test");
      await replayDeadLetter({ db: direct.db, auditor: createAuditor(direct.db, log) }, letter.id, { actorType: "operator", actorId: "tester" });
      // Its sequence is older than the heartbeat accepted since: only the operator's replay gets it in.
      await waitFor(async () => (await cpStatus(direct.db, "CP_A")) === "BROKEN", "the replayed engine fault applied", SECONDS);
      await waitFor(async () => (await sql`select status from dead_letters where id = ${letter.id}`)[0]?.status === "replayed", "the letter marked replayed");
      // The same replay message again is not applied twice.
      await bus.publish(topics.cpEvents, [{ key: copy.key, value: copy.value, headers: { "evnet-replay-of": String(letter.id) } }]);
      await waitFor(
        async () => (await sql`select 1 from audit_events where action = 'replay_message' and outcome = 'failure'`).length > 1,
        "the second copy refused",
      );
    } finally {
      await sql`alter table audit_events drop constraint if exists test_audit_check`;
      await sql`alter table charging_points drop constraint if exists test_reason_check`;
    }
    await cps.get("CP_A")!.fromMonitor({ type: "engine_status", status: "OK", detail: "recovered" });
    await waitFor(async () => (await cpStatus(direct.db, "CP_A")) === "ACTIVE", "CP_A recovered", SECONDS);
  });
});

describe("an operator", () => {
  test("lists, reads and replays dead letters through the API (operator token only), and a replay that fails again is set aside anew", async () => {
    const api = await startApi(apiConfig(), { database: direct, bus });
    try {
      const call = (path: string, init: RequestInit = {}, token: string | null = OPERATOR) =>
        fetch(`${api.url}/ev/central${path}`, { ...init, headers: token ? { authorization: `Bearer ${token}` } : {} });
      const before = (await deadLetters()).length;
      await publishControl(bus, topics, operatorCommand("operator_stop", "CP_A", "x\u0000y"));
      const nul = await newDeadLetter(before, topics.centralControl);
      expect((await call("/dead-letters", {}, null)).status).toBe(401);
      expect((await call("/dead-letters", {}, "wrong-token-of-some-length")).status).toBe(401);
      const listed = await call(`/dead-letters?topic=${topics.centralControl}`);
      const list = (await listed.json()) as { dead_letters: { id: number; status: string }[] };
      expect(list.dead_letters.find((d) => d.id === nul.id)).toMatchObject({ status: "set_aside" });
      const shown = (await (await call(`/dead-letters/${nul.id}`)).json()) as { dead_letter: { value: string; value_encoding: string; key: string } };
      expect(shown.dead_letter).toMatchObject({ key: "CP_A", value_encoding: "text" });
      expect(signedBody(shown.dead_letter.value)).toContain("x\\u0000y"); // the message as it travelled
      expect((await call("/dead-letters/999999")).status).toBe(404);

      const count = (await deadLetters()).length;
      const replay = await call(`/dead-letters/${nul.id}/replay`, { method: "POST" });
      expect(replay.status).toBe(202);
      const again = await newDeadLetter(count, topics.centralControl);
      expect(again.replay_of).toBe(nul.id);
      await waitFor(
        async () => (await sql`select status from dead_letters where id = ${nul.id}`)[0]?.status === "replay_failed",
        "the first letter's replay failed",
      );
      expect(await cpStatus(direct.db, "CP_A")).toBe("ACTIVE");
    } finally {
      await api.stop();
    }
  });

  test("lists and reads them with evnet central dead-letters", async () => {
    const run = async (...args: string[]) => {
      const role = spawnRole(`central ${args.join(" ")}`, ["central", ...args], { DATABASE_URL: database.url, EVNET_TOPIC_PREFIX: prefix });
      expect(await role.proc.exited).toBe(0);
      return role.lines.filter((l) => !/^\d{4}-\d\d-\d\dT/.test(l)).join("\n");
    };
    const before = (await deadLetters()).length;
    await publishControl(bus, topics, operatorCommand("operator_stop", "CP_A", "cli\u0000"));
    await newDeadLetter(before, topics.centralControl);
    const listed = JSON.parse(await run("dead-letters", "list", "--json")) as { id: number; topic: string; status: string }[];
    const stored = await deadLetters();
    expect(listed.map((l) => [l.id, l.status])).toEqual(stored.map((r) => [r.id, r.status]).reverse());
    const text = await run("dead-letters", "show", String(listed.at(-1)!.id));
    expect(text).toContain(`from          ${listed.at(-1)!.topic}`);
  }, 60_000);
});

describe("a burst of messages that are all set aside", () => {
  /**
   * Each such message leaves two audit entries and a dead letter in its batch's transaction: a
   * batch of a few thousand gives each insert more rows than one statement has parameters for
   * (65,535), unless it goes in parts. Failing there, the batch would be applied in halves.
   */
  test("is set aside in whole batches, each message audited, and the partition's next message is applied", async () => {
    const count = 6_000;
    const [last] =
      await sql`select (select coalesce(max(id), 0) from dead_letters)::int as letter, (select coalesce(max(id), 0) from audit_events)::int as audit`;
    const warned = warnings.length;
    const cp = cps.get("CP_A")!;
    const at = new Date().toISOString();
    const burst = Array.from({ length: count }, () => cp.engine.seal({ type: "telemetry", at, energy_kwh: "not a number" }));
    await bus.publish(topics.cpEvents, burst); // in produce requests the broker takes (requestsOf)
    await cps.get("CP_B")!.fromMonitor({ type: "engine_status", status: "KO", detail: "after the burst" });
    await waitFor(async () => (await cpStatus(direct.db, "CP_B")) === "BROKEN", "CP_B broken by the event after the burst", { timeoutMs: 60_000 });
    const [letters] =
      await sql`select count(*)::int as n, count(distinct set_aside_at)::int as transactions, min(code) as code from dead_letters where id > ${last!.letter}`;
    expect(letters).toMatchObject({ n: count, code: "validation" });
    const audits = await sql`select action, count(*)::int as n from audit_events
      where id > ${last!.audit} and action in ('apply_message', 'set_aside_message') group by action order by action`;
    expect(audits.map((a) => [a.action, a.n])).toEqual([
      ["apply_message", count],
      ["set_aside_message", count],
    ]);
    // Not one batch failed and went in halves: each went whole (a few batches, as fetched).
    expect(warnings.slice(warned).filter((w) => w.startsWith("a batch failed on its data"))).toEqual([]);
    expect(letters!.transactions).toBeLessThan(count / 100);
    // Copied to the dead-letter topic as they were set aside (in produce requests the broker
    // takes), not left to the sweeper.
    const copied = () => onDeadLetterTopic.filter((m) => Number(m.headers?.[DEAD_LETTER_HEADERS.id]) > last!.letter).length;
    await waitFor(() => copied() === count, "every dead letter of the burst on the dead-letter topic", SECONDS);
    expect(warnings.slice(warned).filter((w) => w.startsWith("could not copy dead letters"))).toEqual([]);
    await cps.get("CP_B")!.fromMonitor({ type: "engine_status", status: "OK", detail: "recovered" });
    await waitFor(async () => (await cpStatus(direct.db, "CP_B")) === "ACTIVE", "CP_B recovered", SECONDS);
  }, 90_000);
});

describe("a database outage", () => {
  test("is waited out: what arrived meanwhile is applied once the database is back, and nothing is set aside", async () => {
    const before = (await deadLetters()).length;
    proxy.cut();
    try {
      await publishControl(bus, topics, operatorCommand("operator_stop", "CP_C", "during the outage"));
      await cps.get("CP_B")!.fromMonitor({ type: "engine_status", status: "KO", detail: "during the outage" });
      await Bun.sleep(4_000); // Central retries meanwhile
    } finally {
      proxy.restore();
    }
    await waitFor(async () => (await cpStatus(direct.db, "CP_C")) === "STOPPED", "CP_C stopped after the outage", { timeoutMs: 30_000 });
    await waitFor(async () => (await sql`select engine_fault from charging_points where cp_id = 'CP_B'`)[0]?.engine_fault === true, "CP_B's fault applied", {
      timeoutMs: 30_000,
    });
    expect((await deadLetters()).length).toBe(before);
  }, 60_000);
});
