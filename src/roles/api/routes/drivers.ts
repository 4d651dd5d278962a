/**
 * `GET /ev/central/drivers[/:driver_id]`: drivers, their state and their sessions (public).
 * `POST /ev/central/drivers`: a driver registers (enrollment token) or an operator registers one
 * (operator token): it gets its credential, once. `POST /ev/central/drivers/:driver_id/auth`: a
 * driver trades its credential for a fresh channel key (over HTTPS, or plain HTTP from loopback).
 */
import type { Context } from "hono";
import { Hono } from "hono";
import * as v from "valibot";
import { textSchema } from "../../../domain/ids.ts";
import { type AuditedVariables, auditFailures } from "../../../http/audit-failures.ts";
import { requireToken, type TokenRole } from "../../../http/auth.ts";
import { clientAddress } from "../../../http/client-address.ts";
import { bearer, describeRoute, errors, ok, validate } from "../../../http/openapi.ts";
import { driverIdSchema } from "../../../http/validate.ts";
import { authenticateDriver, DRIVER_ID_PATTERN, DRIVER_ID_RULE, driverResource, registerDriver } from "../../../identity/drivers.ts";
import { AppError } from "../../../lib/errors.ts";
import type { ApiContext } from "../context.ts";
import { driverKeySchema, driverSchema, registeredDriverSchema, sessionSchema } from "../shapes.ts";
import { findDriver, listDrivers } from "../views/drivers.ts";
import { listSessions } from "../views/sessions.ts";
import { keysMayTravel } from "./auth.ts";
import { wholeNumber } from "./query.ts";
import { whileStoreIsUp } from "./store-errors.ts";

const newDriverIdSchema = v.pipe(v.string("driver_id must be a string"), v.regex(DRIVER_ID_PATTERN, `driver_id must be ${DRIVER_ID_RULE}`));
const registrationSchema = v.object({ driver_id: newDriverIdSchema });
const driverAuthSchema = v.object({
  driver_credential: textSchema(200, "driver_credential", { required: true }),
});

export function driverRoutes(ctx: ApiContext): Hono<{ Variables: AuditedVariables & { tokenRole: TokenRole } }> {
  const app = new Hono<{ Variables: AuditedVariables & { tokenRole: TokenRole } }>();

  app.get(
    "/drivers",
    describeRoute({
      tags: ["drivers"],
      summary: "List drivers",
      description: "Every driver Central has seen, with their state, session in progress and totals.",
      responses: { 200: ok("The drivers, by id", v.object({ drivers: v.array(driverSchema) })) },
    }),
    async (c) => c.json({ drivers: await whileStoreIsUp(ctx, "list drivers", () => listDrivers(ctx.db)) }),
  );

  app.get(
    "/drivers/:driver_id",
    describeRoute({
      tags: ["drivers"],
      summary: "Show one driver and their recent sessions",
      responses: {
        200: ok("The driver and their newest sessions", v.object({ driver: driverSchema, sessions: v.array(sessionSchema) })),
        ...errors(404, 422),
      },
    }),
    validate("param", v.object({ driver_id: driverIdSchema })),
    validate("query", v.object({ sessions: wholeNumber("sessions", 20, 1, 500) })),
    async (c) => {
      const { driver_id } = c.req.valid("param");
      const { sessions: howMany } = c.req.valid("query");
      const [driver, { sessions }] = await whileStoreIsUp(ctx, "read a driver", () =>
        Promise.all([findDriver(ctx.db, driver_id), listSessions(ctx.db, { driverId: driver_id, limit: howMany, offset: 0 })]),
      );
      if (!driver) throw new AppError("not_found", `no driver '${driver_id}'`);
      return c.json({ driver, sessions });
    },
  );

  const registrars = requireToken(
    [
      ...(ctx.config.EVNET_ENROLLMENT_TOKEN ? [{ role: "enrollment" as const, token: ctx.config.EVNET_ENROLLMENT_TOKEN }] : []),
      { role: "operator", token: ctx.config.EVNET_OPERATOR_TOKEN },
    ],
    ctx.auditor,
  );
  const servesTls = Boolean(ctx.config.API_TLS_CERT && ctx.config.API_TLS_KEY);

  app.post(
    "/drivers",
    describeRoute({
      tags: ["drivers"],
      summary: "Register a driver",
      description:
        "Enrollment token (a driver registering itself: a new id only) or operator token (also gives an existing driver a new credential; the old one and its keys stop working). Returns the driver's credential, once. The driver id is also its RFID id tag: 1-20 characters.",
      security: bearer,
      responses: {
        201: ok("Registered", registeredDriverSchema),
        200: ok("A new credential for an existing driver", registeredDriverSchema),
        ...errors(401, 409, 422, 503),
      },
    }),
    registrars,
    auditFailures(ctx.auditor, { eventType: "registration", action: "register_driver", actorType: "driver", resource: namedDriver }),
    validate("json", registrationSchema),
    async (c) => {
      const { driver_id } = c.req.valid("json");
      c.set("audited", true); // registerDriver audits every outcome itself
      const role = c.get("tokenRole") === "operator" ? "operator" : "enrollment";
      const done = await whileStoreIsUp(ctx, "register a driver", () =>
        registerDriver(ctx, driver_id, { role, actorId: "api", sourceAddress: clientAddress(c) }),
      );
      c.header("cache-control", "no-store");
      return c.json(
        {
          driver_id,
          driver_credential: done.credential,
          message: `Driver ${driver_id} ${done.created ? "registered" : "has a new credential"}; keep the credential secret, it is not shown again`,
        },
        done.created ? 201 : 200,
      );
    },
  );

  app.post(
    "/drivers/:driver_id/auth",
    describeRoute({
      tags: ["auth"],
      summary: "Authenticate a driver",
      description:
        "Trades a driver's credential for a fresh 256-bit channel key (returned once); the driver's requests are sealed with it and Central's answers come sealed for it. Refused with 401 for an unknown driver or a wrong credential.",
      responses: { 200: ok("The channel key", driverKeySchema), ...errors(400, 401, 403, 422, 503) },
    }),
    auditFailures(ctx.auditor, { eventType: "authentication", action: "authenticate_driver", actorType: "driver", resource: namedDriver }),
    async (c, next) => {
      if (!keysMayTravel(servesTls, clientAddress(c)))
        throw new AppError("forbidden", "this API serves plain HTTP, so it hands out keys to loopback clients only; configure API_TLS_CERT and API_TLS_KEY");
      await next();
    },
    validate("param", v.object({ driver_id: newDriverIdSchema })),
    validate("json", driverAuthSchema),
    async (c) => {
      const { driver_id } = c.req.valid("param");
      c.set("audited", true); // authenticateDriver audits every outcome itself
      const issued = await whileStoreIsUp(ctx, "authenticate a driver", () =>
        authenticateDriver(
          { ...ctx, masterKey: ctx.config.EVNET_MASTER_KEY },
          { driverId: driver_id, credential: c.req.valid("json").driver_credential, sourceAddress: clientAddress(c) },
        ),
      );
      c.header("cache-control", "no-store");
      return c.json({
        driver_id,
        key_id: issued.keyId,
        key: Buffer.from(issued.key).toString("base64"),
        algorithm: "AES-256-GCM" as const,
        issued_at: issued.issuedAt.toISOString(),
      });
    },
  );

  return app;
}

/** The driver a refused request named, for its audit entry (the path, else the body if it parsed). */
async function namedDriver(c: Context): Promise<string | undefined> {
  const fromPath = c.req.param("driver_id");
  const body = fromPath ? undefined : ((await c.req.json().catch(() => undefined)) as { driver_id?: unknown } | undefined);
  const id = fromPath ?? body?.driver_id;
  return typeof id === "string" && DRIVER_ID_PATTERN.test(id) ? driverResource(id) : undefined;
}
