/**
 * The probes load balancers and orchestrators expect, on every role that serves HTTP:
 * - `GET /livez`: 200 while the process can answer at all (restart it when this fails);
 * - `GET /readyz`: 200 when the role can do its work (its database answers, and whatever else
 *   the role checks), 503 otherwise and from the moment it starts stopping, so traffic drains
 *   away before it goes. The body says which check failed.
 * Both are cheap and unauthenticated, and say nothing secret.
 */
import { Hono } from "hono";
import * as v from "valibot";
import { describeRoute, ok } from "../http/openapi.ts";

export interface ReadinessCheck {
  name: string;
  /** Resolves to a problem in words, or undefined when fine. */
  check(): Promise<string | undefined>;
}

export interface Probes {
  routes: Hono;
  /** From now on /readyz answers 503 (the role is stopping). */
  drain(): void;
}

const CHECK_TIMEOUT_MS = 2000;

async function run(check: ReadinessCheck): Promise<string | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${CHECK_TIMEOUT_MS} ms`), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check.check().catch((err: unknown) => (err instanceof Error ? err.message : String(err))), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function createProbes(role: string, checks: ReadinessCheck[]): Probes {
  let draining = false;
  const routes = new Hono();
  const livez = describeRoute({
    tags: ["health"],
    summary: "Liveness probe",
    description: "200 whenever the process answers: a failing liveness probe means restart it.",
    responses: { 200: ok("Alive", v.object({ status: v.literal("ok"), role: v.string() })) },
  });
  const report = v.object({
    status: v.picklist(["ready", "not_ready"]),
    role: v.string(),
    checks: v.record(v.string(), v.string()),
    failed: v.optional(v.record(v.string(), v.string())),
  });
  const readyz = describeRoute({
    tags: ["health"],
    summary: "Readiness probe",
    description:
      "200 when the role can do its work; 503 (same body, with what failed) when a dependency does not answer or the role is stopping: send it no traffic.",
    responses: { 200: ok("Ready", report), 503: ok("Not ready", report) },
  });
  routes.get("/livez", livez, (c) => c.json({ status: "ok", role }, 200, { "cache-control": "no-store" }));
  routes.get("/readyz", readyz, async (c) => {
    const results = await Promise.all(checks.map(async (chk) => [chk.name, await run(chk)] as const));
    const failed = Object.fromEntries(results.filter(([, problem]) => problem !== undefined));
    if (draining) failed.role = "stopping";
    const ready = Object.keys(failed).length === 0;
    return c.json(
      {
        status: ready ? "ready" : "not_ready",
        role,
        checks: Object.fromEntries(results.map(([name, problem]) => [name, problem ?? "ok"])),
        ...(ready ? {} : { failed }),
      },
      ready ? 200 : 503,
      { "cache-control": "no-store" },
    );
  });
  return {
    routes,
    drain() {
      draining = true;
    },
  };
}
