/**
 * `GET /ev/central/audit-events` against the real PostgreSQL: filters by type, actor, resource,
 * outcome and time range, pages by offset and by cursor, and refuses bad filters with a 422.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type AuditEntry, createAuditor } from "../../src/audit/audit.ts";
import { createLogger } from "../../src/lib/log.ts";
import { getJson, startTestApi, type TestApi } from "../support/api-server.ts";

let api: TestApi;
const t0 = new Date("2030-01-01T10:00:00Z");
const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

beforeAll(async () => {
  api = await startTestApi();
  const auditor = createAuditor(api.seed.db, createLogger("test"));
  const entries: AuditEntry[] = [
    { eventType: "registration", actorType: "operator", resource: "cp/CP_1", action: "register", outcome: "success", at: at(0), sourceAddress: "10.0.0.1" },
    { eventType: "authentication", actorType: "cp", actorId: "CP_1", resource: "cp/CP_1", action: "authenticate", outcome: "success", at: at(1) },
    {
      eventType: "authentication",
      actorType: "cp",
      actorId: "CP_2",
      resource: "cp/CP_2",
      action: "authenticate",
      outcome: "failure",
      reason: "expired: ...",
      at: at(2),
    },
    {
      eventType: "security",
      actorType: "cp",
      actorId: "CP_1",
      resource: "cp/CP_1",
      action: "open_message",
      outcome: "failure",
      reason: "tampered: ...",
      at: at(3),
    },
    { eventType: "revocation", actorType: "operator", actorId: "api", resource: "cp/CP_1", action: "revoke_key", outcome: "success", at: at(4) },
    { eventType: "error", actorType: "system", action: "notify_central", outcome: "error", reason: "bus down", at: at(5) },
  ];
  for (const e of entries) await auditor.record(e);
});

afterAll(async () => {
  await api?.stop();
});

const search = (query: string) => getJson(api, `/ev/central/audit-events${query}`);
const actions = (body: any) => body.audit_events.map((e: { action: string }) => e.action);

describe("searching the audit log", () => {
  test("lists every event newest first, with all its fields", async () => {
    const { status, body } = await search("");
    expect(status).toBe(200);
    expect(actions(body)).toEqual(["notify_central", "revoke_key", "open_message", "authenticate", "authenticate", "register"]);
    expect(body.audit_events.at(-1)).toMatchObject({
      event_type: "registration",
      actor_type: "operator",
      resource: "cp/CP_1",
      outcome: "success",
      source_address: "10.0.0.1",
      at: "2030-01-01T10:00:00.000Z",
    });
    expect(body.paging).toMatchObject({ total: 6, limit: 100, offset: 0, next_cursor: null });
  });

  test("filters by event type, actor, resource and outcome", async () => {
    expect(actions((await search("?event_type=authentication")).body)).toEqual(["authenticate", "authenticate"]);
    expect(actions((await search("?actor_type=cp&actor_id=CP_1")).body)).toEqual(["open_message", "authenticate"]);
    expect((await search("?resource=cp/CP_1")).body.paging.total).toBe(4);
    const failures = (await search("?outcome=failure")).body.audit_events;
    expect(failures.map((e: { reason: string }) => e.reason.split(":")[0])).toEqual(["tampered", "expired"]);
  });

  test("filters by a time range, both ends included", async () => {
    const { body } = await search(`?from=${at(1).toISOString()}&to=${at(3).toISOString()}`);
    expect(actions(body)).toEqual(["open_message", "authenticate", "authenticate"]);
  });

  test("pages by offset, and by the cursor of the previous page", async () => {
    const first = (await search("?limit=4")).body;
    expect(first.audit_events.length).toBe(4);
    expect(first.paging.next_cursor).toBeString();
    const byCursor = (await search(`?limit=4&cursor=${first.paging.next_cursor}`)).body;
    const byOffset = (await search("?limit=4&offset=4")).body;
    expect(actions(byCursor)).toEqual(["authenticate", "register"]);
    expect(actions(byOffset)).toEqual(actions(byCursor));
    expect(byCursor.paging.next_cursor).toBeNull();
  });

  test("refuses bad filters with a 422 naming the field", async () => {
    for (const [query, field] of [
      ["?limit=501", "limit"],
      ["?limit=zero", "limit"],
      ["?outcome=maybe", "outcome"],
      ["?actor_type=alien", "actor_type"],
      ["?from=yesterday", "from"],
      ["?cursor=-1", "cursor"],
      ["?actor_id=D%001", "actor_id"],
      ["?resource=cp%2FCP%0A1", "resource"],
      ["?event_type=%1B%5B31m", "event_type"],
    ] as const) {
      const { status, body } = await search(query);
      expect(status).toBe(422);
      expect(body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
  });

  test("refuses a range that ends before it starts", async () => {
    const { status, body } = await search(`?from=${at(3).toISOString()}&to=${at(1).toISOString()}`);
    expect(status).toBe(422);
    expect(body.error.details[0].message).toContain("from must not be after to");
  });
});
