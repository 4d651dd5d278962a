/**
 * The OpenAPI document describes every route the API mounts (whoever wrote it), the docs page
 * and the dashboard are served, and every file of public/ is served from the embedded list.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import type { Hono } from "hono";
import { createAuditor } from "../../src/audit/audit.ts";
import { MemoryBus } from "../../src/bus/memory.ts";
import { topicsFor } from "../../src/bus/topics.ts";
import { loadConfig } from "../../src/config/env.ts";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createLogger } from "../../src/lib/log.ts";
import { createApiApp } from "../../src/roles/api/app.ts";
import { apiConfigSchema } from "../../src/roles/api/config.ts";
import { publicFiles } from "../../src/roles/api/public-files.ts";
import { createTestDatabase, type TestDatabase } from "../support/services.ts";

let testDb: TestDatabase;
let database: Database;
let app: Hono;
let doc: any;

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = await openDatabase({ url: testDb.url, maxConnections: 2 });
  await migrate(database.db);
  const config = loadConfig(
    apiConfigSchema,
    {},
    {
      DATABASE_URL: testDb.url,
      EVNET_OPERATOR_TOKEN: "operator-token-for-openapi-tests",
      EVNET_SERVICE_TOKEN: "service-token-for-openapi-tests",
      EVNET_MASTER_KEY: "a-master-key-passphrase-for-openapi-tests",
    },
  );
  const log = createLogger("api-test");
  app = createApiApp({
    db: database.db,
    bus: new MemoryBus(),
    topics: topicsFor("t"),
    auditor: createAuditor(database.db, log),
    log,
    config,
    startedAt: new Date(),
  });
  const res = await app.request("/openapi.json");
  expect(res.status).toBe(200);
  doc = await res.json();
});

afterAll(async () => {
  await database?.close();
  await testDb?.drop();
});

/** Hono's `/a/:id` as OpenAPI's `/a/{id}`. */
const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
const looksLikeStaticFile = (path: string) => (path.split("/").pop() ?? "").includes(".");

describe("GET /openapi.json", () => {
  test("is an OpenAPI 3 document about the Central API", () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toBe("evnet Central API");
    expect(typeof doc.info.version).toBe("string");
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
  });

  test("describes every route mounted in the API, with a summary and its responses", () => {
    const routes = app.routes.filter((r) => r.method !== "ALL" && !looksLikeStaticFile(r.path));
    const missing = [...new Set(routes.map((r) => `${r.method} ${r.path}`))].filter((key) => {
      const [method, path] = key.split(" ") as [string, string];
      const op = doc.paths[openApiPath(path)]?.[method.toLowerCase()];
      return !op?.summary || !op.responses;
    });
    expect(missing).toEqual([]);
    expect(routes.length).toBeGreaterThan(10);
  });

  test("includes the original's endpoints", () => {
    for (const [path, method] of [
      ["/ev/central/charging-points", "get"],
      ["/ev/central/charging-points/{cp_id}", "get"],
      ["/ev/central/drivers", "get"],
      ["/ev/central/sessions", "get"],
      ["/ev/central/health", "get"],
      ["/ev/central/events/stream", "get"],
    ] as const) {
      expect(doc.paths[path]?.[method]).toBeDefined();
    }
  });

  test("documents query parameters and the shapes of responses", () => {
    const sessions = doc.paths["/ev/central/sessions"].get;
    expect(sessions.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(["status", "cp_id", "driver_id", "limit", "offset"]));
    const listSchema = sessions.responses["200"].content["application/json"].schema;
    expect(listSchema.properties.sessions.type).toBe("array");
    const cp = doc.paths["/ev/central/charging-points/{cp_id}"].get;
    expect(cp.parameters).toContainEqual(expect.objectContaining({ name: "cp_id", in: "path", required: true }));
    expect(cp.responses["404"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
    expect(doc.components.schemas.Error.properties.error.required).toEqual(["code", "message"]);
  });

  test("marks every write except CP authentication as needing a token", () => {
    const writes = (Object.entries(doc.paths) as [string, any][]).flatMap(([path, item]) =>
      Object.entries(item as Record<string, any>)
        .filter(([method]) => method !== "get" && !path.endsWith("/auth"))
        .map(([method, op]) => ({ path, method, secured: Boolean(op.security?.length) })),
    );
    expect(writes.filter((w) => !w.secured)).toEqual([]);
  });
});

describe("pages and static files", () => {
  test("serves the dashboard at /", async () => {
    const res = await app.request("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain("<title>evnet");
    expect(html).toContain("/dashboard.js");
  });

  test("serves a readable docs page at /docs that renders the document", async () => {
    const res = await app.request("/docs");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("/docs.js");
    const js = await app.request("/docs.js");
    expect(await js.text()).toContain("/openapi.json");
  });

  test("serves every file of public/ with its content type", async () => {
    const served = new Set(Object.keys(publicFiles));
    for (const name of readdirSync("public")) {
      expect(served).toContain(`/${name}`);
      const res = await app.request(`/${name}`);
      expect(res.status).toBe(200);
      const type = res.headers.get("content-type") ?? "";
      const expected = { html: "text/html", css: "text/css", js: "javascript", svg: "image/svg+xml" }[name.split(".").pop()!];
      expect(type).toContain(expected!);
      expect((await res.arrayBuffer()).byteLength).toBe(Bun.file(`public/${name}`).size);
    }
  });

  test("answers an unknown file with a JSON 404", async () => {
    const res = await app.request("/nothing-here.js");
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe("not_found");
  });
});
