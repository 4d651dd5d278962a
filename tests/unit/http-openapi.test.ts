/**
 * `validate` from src/http/openapi.ts: the same statement validates a request and documents it,
 * and every bad input gets this project's JSON error body with a 4xx, never a 500.
 */
import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { generateSpecs } from "hono-openapi";
import * as v from "valibot";
import { installErrorHandling } from "../../src/http/errors.ts";
import { describeRoute, errors, ok, validate } from "../../src/http/openapi.ts";
import { createLogger } from "../../src/lib/log.ts";

const body = v.object({ city: v.pipe(v.string(), v.minLength(1)), temperature_c: v.number() });

function appUnderTest() {
  const app = new Hono();
  installErrorHandling(app, createLogger("test"));
  app.put(
    "/readings/:id",
    describeRoute({ summary: "Store a reading", responses: { 200: ok("Stored", body), ...errors(400, 422) } }),
    validate("param", v.object({ id: v.pipe(v.string(), v.regex(/^\d+$/, "id must be digits")) })),
    validate("json", body),
    (c) => c.json({ id: c.req.valid("param").id, ...c.req.valid("json") }),
  );
  return app;
}

const put = (init: { body?: string; type?: string; id?: string }) =>
  appUnderTest().request(`/readings/${init.id ?? "1"}`, {
    method: "PUT",
    headers: init.type === undefined ? { "content-type": "application/json" } : init.type ? { "content-type": init.type } : {},
    body: init.body,
  });

describe("validate", () => {
  test("passes a valid body and path through to the handler", async () => {
    const res = await put({ body: JSON.stringify({ city: "Oslo", temperature_c: -3 }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: "1", city: "Oslo", temperature_c: -3 });
  });

  test("answers malformed JSON with 400 bad_request", async () => {
    const res = await put({ body: '{"city": "Oslo",' });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("bad_request");
  });

  test("answers a body that is not declared JSON with 400 bad_request", async () => {
    for (const type of ["text/plain", ""]) {
      const res = await put({ body: JSON.stringify({ city: "Oslo", temperature_c: 1 }), type });
      expect(res.status).toBe(400);
      expect((await res.json()).error.message).toContain("Content-Type: application/json");
    }
  });

  test("answers a body that is too large with 400 bad_request", async () => {
    const res = await put({ body: JSON.stringify({ city: "x".repeat(70_000), temperature_c: 1 }) });
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toContain("larger than");
  });

  test("answers wrong types with 422 validation_failed naming each field", async () => {
    const res = await put({ body: JSON.stringify({ city: 12, temperature_c: "cold" }) });
    expect(res.status).toBe(422);
    const { error } = await res.json();
    expect(error.code).toBe("validation_failed");
    expect(error.message).toBe("invalid body");
    expect(error.details.map((d: { field: string }) => d.field).sort()).toEqual(["city", "temperature_c"]);
  });

  test("answers JSON that is not an object with 422", async () => {
    for (const raw of ["null", "[1,2]", '"text"', "42"]) {
      const res = await put({ body: raw });
      expect(res.status).toBe(422);
    }
  });

  test("answers a bad path parameter with 422 naming it", async () => {
    const res = await put({ id: "abc", body: JSON.stringify({ city: "Oslo", temperature_c: 1 }) });
    expect(res.status).toBe(422);
    const { error } = await res.json();
    expect(error.message).toBe("invalid path");
    expect(error.details).toEqual([{ field: "id", message: "id must be digits" }]);
  });

  test("documents the body, the path parameter and the error responses", async () => {
    const doc = await generateSpecs(appUnderTest());
    const op = (doc.paths["/readings/{id}"] as any).put;
    expect(op.requestBody.content["application/json"].schema.required).toEqual(["city", "temperature_c"]);
    expect(op.parameters).toContainEqual(expect.objectContaining({ name: "id", in: "path", required: true }));
    expect(Object.keys(op.responses).sort()).toEqual(["200", "400", "422"]);
  });
});
