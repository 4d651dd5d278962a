/**
 * A control character wherever a request to the API can carry one (a path segment, a query
 * parameter, a string field of a JSON body) is refused as bad input, never a 500 from the
 * database: tried on every route the OpenAPI document describes, with each kind of token.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { getJson, startTestApi, TEST_OPERATOR_TOKEN, TEST_SERVICE_TOKEN, type TestApi } from "../support/api-server.ts";

const GATEWAY_TOKEN = "gateway-token-for-api-tests";
let api: TestApi;
let doc: any;

beforeAll(async () => {
  api = await startTestApi({ EVNET_GATEWAY_TOKEN: GATEWAY_TOKEN });
  doc = (await getJson(api, "/openapi.json")).body;
});

afterAll(async () => {
  await api?.stop();
});

const TOKENS = [undefined, TEST_OPERATOR_TOKEN, TEST_SERVICE_TOKEN, GATEWAY_TOKEN];
/** Routes that never end (server-sent events): a 200 there reads no parameter into SQL. */
const streaming = (path: string) => path.endsWith("/stream");

const resolve = (schema: any): any => (schema?.$ref ? resolve(doc.components.schemas[schema.$ref.split("/").pop()]) : schema);

/** A body with every string field (at any depth) holding a NUL, the other fields of a plausible type. */
function poisoned(schema: any): unknown {
  const s = resolve(schema);
  if (!s) return "X\u0000Y";
  if (s.anyOf || s.oneOf) return poisoned((s.anyOf ?? s.oneOf).find((x: any) => resolve(x)?.type !== "null"));
  if (s.enum) return s.enum[0];
  if (s.const !== undefined) return s.const;
  switch (s.type) {
    case "object":
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([name, field]) => [name, poisoned(field)]));
    case "array":
      return [poisoned(s.items)];
    case "number":
    case "integer":
      return 1;
    case "boolean":
      return true;
    default:
      return "X\u0000Y";
  }
}

async function statusOf(method: string, path: string, token: string | undefined, body?: unknown): Promise<number> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${api.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  await res.body?.cancel();
  return res.status;
}

describe("a NUL or another control character in a request", () => {
  test("is never a server error, on any route the API documents", async () => {
    const tried: string[] = [];
    const failures: string[] = [];
    for (const [template, item] of Object.entries(doc.paths) as [string, Record<string, any>][]) {
      if (streaming(template)) continue;
      for (const [lower, op] of Object.entries(item)) {
        const method = lower.toUpperCase();
        const withParams = (value: string) => template.replace(/\{[^}]+\}/g, value);
        const requests: { path: string; body?: unknown }[] = [];
        if (template.includes("{")) requests.push({ path: withParams("X%00Y") }, { path: withParams("X%1BY") });
        for (const q of (op.parameters ?? []).filter((p: any) => p.in === "query")) requests.push({ path: `${withParams("CP1")}?${q.name}=X%00Y` });
        const bodySchema = op.requestBody?.content?.["application/json"]?.schema;
        if (bodySchema) requests.push({ path: withParams("CP1"), body: poisoned(bodySchema) });
        for (const r of requests)
          for (const token of TOKENS) {
            const status = await statusOf(method, r.path, token, r.body);
            tried.push(`${method} ${r.path}`);
            if (status >= 500) failures.push(`${method} ${r.path}${r.body ? ` ${JSON.stringify(r.body)}` : ""} (${token ? "token" : "no token"}): ${status}`);
          }
      }
    }
    expect(failures).toEqual([]);
    expect(new Set(tried).size).toBeGreaterThan(30);
  });
});
