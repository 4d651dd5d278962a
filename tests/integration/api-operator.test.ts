/**
 * Operator actions through the API (the dashboard's buttons), against the real PostgreSQL and
 * Kafka: stop and resume reach Central as control messages and are audited; without the
 * operator token, for unknown CPs or with bad input they are refused with a 4xx and send nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import type { BusMessage, Subscription } from "../../src/bus/bus.ts";
import { KafkaBus } from "../../src/bus/kafka.ts";
import { allTopics, topicsFor } from "../../src/bus/topics.ts";
import { auditEvents } from "../../src/db/schema/index.ts";
import { getJson, startTestApi, TEST_OPERATOR_TOKEN, TEST_SERVICE_TOKEN, type TestApi } from "../support/api-server.ts";
import { readControl } from "../support/control.ts";
import { seedChargingPoint } from "../support/seed.ts";
import { kafkaBrokers, testTopicPrefix } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

const prefix = testTopicPrefix();
let api: TestApi;
let observer: KafkaBus;
let subscription: Subscription;
const control: BusMessage[] = [];

beforeAll(async () => {
  observer = new KafkaBus({ brokers: kafkaBrokers(), clientId: "operator-api-test", sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 });
  await observer.ensureTopics(allTopics(topicsFor(prefix)));
  subscription = await observer.subscribe({ topics: [topicsFor(prefix).centralControl], groupId: `${prefix}-observer`, from: "earliest" }, async (batch) => {
    control.push(...batch);
  });
  api = await startTestApi({ KAFKA_BROKERS: kafkaBrokers().join(","), EVNET_TOPIC_PREFIX: prefix });
  await seedChargingPoint(api.seed.db, { cpId: "CP1", status: "ACTIVE" });
  await seedChargingPoint(api.seed.db, { cpId: "CP-GONE", status: "DISCONNECTED", deregisteredAt: new Date() });
});

afterAll(async () => {
  await api?.stop();
  await subscription?.close();
  await observer?.close();
});

const post = (path: string, token?: string) =>
  getJson(api, `/ev/central${path}`, { method: "POST", headers: token ? { authorization: `Bearer ${token}` } : {} });

const auditOf = (action: string) => api.seed.db.select().from(auditEvents).where(eq(auditEvents.action, action));

describe("POST /ev/central/charging-points/:cp_id/stop and /resume", () => {
  test("hand Central an operator_stop, then an operator_resume, keyed by the CP, and audit both", async () => {
    const stop = await post("/charging-points/CP1/stop?reason=maintenance", TEST_OPERATOR_TOKEN);
    expect(stop.status).toBe(202);
    expect(stop.body).toMatchObject({ cp_id: "CP1", command: "operator_stop" });
    const resume = await post("/charging-points/CP1/resume", TEST_OPERATOR_TOKEN);
    expect(resume.status).toBe(202);

    await waitFor(() => control.length >= 2, "two control messages");
    const [first, second] = control.map((m) => ({ key: m.key, message: readControl(m) }));
    expect(first).toMatchObject({ key: "CP1", message: { type: "operator_stop", cp_id: "CP1", reason: "maintenance" } });
    expect(second).toMatchObject({ key: "CP1", message: { type: "operator_resume", cp_id: "CP1" } });

    const [stopAudit] = await auditOf("stop_cp");
    expect(stopAudit).toMatchObject({ eventType: "operator", actorType: "operator", resource: "cp/CP1", outcome: "success", reason: "maintenance" });
    expect((await auditOf("resume_cp"))[0]!.outcome).toBe("success");
  });

  test("refuse a missing, wrong or service token with 401, audited, and send nothing", async () => {
    const before = control.length;
    for (const token of [undefined, "not-the-operator-token", TEST_SERVICE_TOKEN]) {
      const res = await post("/charging-points/CP1/stop", token);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("unauthorized");
    }
    const refused = await api.seed.db.select().from(auditEvents).where(eq(auditEvents.eventType, "security"));
    expect(refused.map((r) => r.reason)).toEqual(expect.arrayContaining(["missing token", "wrong token"]));
    await Bun.sleep(300); // nothing may arrive late either
    expect(control.length).toBe(before);
  });

  test("answer 404 for an unknown or deregistered CP and 422 for bad input, sending nothing", async () => {
    const before = control.length;
    expect((await post("/charging-points/NOPE/stop", TEST_OPERATOR_TOKEN)).status).toBe(404);
    expect((await post("/charging-points/CP-GONE/resume", TEST_OPERATOR_TOKEN)).status).toBe(404);
    const badId = await post(`/charging-points/${encodeURIComponent("CP 1;drop")}/stop`, TEST_OPERATOR_TOKEN);
    expect(badId.status).toBe(422);
    expect(badId.body.error.details[0].field).toBe("cp_id");
    const longReason = await post(`/charging-points/CP1/stop?reason=${"x".repeat(201)}`, TEST_OPERATOR_TOKEN);
    expect(longReason.status).toBe(422);
    const hiddenReason = await post("/charging-points/CP1/stop?reason=maint%00enance", TEST_OPERATOR_TOKEN);
    expect(hiddenReason.status).toBe(422);
    expect(hiddenReason.body.error.details[0]).toEqual({ field: "reason", message: "reason must not contain control characters" });
    const failures = await api.seed.db.select().from(auditEvents).where(eq(auditEvents.outcome, "failure"));
    expect(failures.filter((f) => f.action === "stop_cp" || f.action === "resume_cp").length).toBeGreaterThanOrEqual(4);
    await Bun.sleep(300);
    expect(control.length).toBe(before);
  });
});
