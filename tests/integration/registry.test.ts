/**
 * The Registry over HTTPS against the real PostgreSQL: registration issues a credential the
 * Registry's public key verifies, reads never show it, deregistration invalidates it, and every
 * bad request gets a 4xx JSON error, an audit entry, and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { ConfigError, loadConfig } from "../../src/config/env.ts";
import { type CredentialVerifier, createCredentialVerifier } from "../../src/crypto/credentials.ts";
import { registryConfigSchema } from "../../src/roles/registry/config.ts";
import { start } from "../../src/roles/registry/index.ts";
import { callJson, ENROLLMENT_TOKEN, type JsonCall, makeTestCerts, readText, type TestCerts } from "../support/identity.ts";
import { createTestDatabase, type TestDatabase } from "../support/services.ts";

let certs: TestCerts;
let database: TestDatabase;
let sql: postgres.Sql;
let registry: { url: string; stop(): Promise<void> };
let verifier: CredentialVerifier;

function registryConfig(overrides: Record<string, string> = {}) {
  return loadConfig(
    registryConfigSchema,
    {},
    {
      DATABASE_URL: database.url,
      REGISTRY_PORT: "0",
      REGISTRY_TLS_CERT: certs.certFile,
      REGISTRY_TLS_KEY: certs.keyFile,
      REGISTRY_SIGNING_KEY: certs.signingKeyFile,
      EVNET_ENROLLMENT_TOKEN: ENROLLMENT_TOKEN,
      ...overrides,
    },
  );
}

const call = (method: string, path: string, init: JsonCall = {}) => callJson(certs.fetch, method, `${registry.url}/ev/registry${path}`, init);
const register = (body: unknown, token = ENROLLMENT_TOKEN) => call("POST", "/charging-points", { token, body });

async function auditRows(where: { eventType?: string; resource?: string } = {}) {
  return sql`select event_type, action, outcome, reason, actor_type, resource, source_address, details from audit_events
    where (${where.eventType ?? null}::text is null or event_type = ${where.eventType ?? null})
      and (${where.resource ?? null}::text is null or resource = ${where.resource ?? null})
    order by id`;
}

async function lastAudit() {
  const [row] = await sql`select event_type, action, outcome, reason, resource, source_address from audit_events order by id desc limit 1`;
  return row!;
}

beforeAll(async () => {
  certs = await makeTestCerts();
  database = await createTestDatabase();
  registry = await start(registryConfig());
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
  verifier = await createCredentialVerifier(readText(certs.publicKeyFile));
});

afterAll(async () => {
  await registry?.stop();
  await sql?.end();
  await database?.drop();
  certs?.remove();
});

describe("registering a charging point", () => {
  test("registers a new CP over HTTPS and returns a credential the Registry's public key verifies", async () => {
    const reply = await register({ cp_id: "CP_R1", location: "Madrid", price_per_kwh: 0.42 });
    expect(registry.url.startsWith("https://")).toBe(true);
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ cp_id: "CP_R1", location: "Madrid", price_per_kwh: 0.42, status: "DISCONNECTED" });
    expect(reply.body.message).toContain("CP_R1");
    const verified = await verifier.verify(reply.body.cp_credential, "CP_R1");
    const [row] = await sql`select current_credential_id, deregistered_at from charging_points where cp_id = 'CP_R1'`;
    expect(row!.current_credential_id).toBe(verified.jti);
    const [audit] = await auditRows({ eventType: "registration", resource: "cp/CP_R1" });
    expect(audit).toMatchObject({ action: "register", outcome: "success", actor_type: "operator" });
    expect(audit!.source_address).toMatch(/127\.0\.0\.1|::1/);
  });

  test("registering again updates the location, keeps the price, and replaces the credential", async () => {
    const first = await register({ cp_id: "CP_R2", location: "Madrid", price_per_kwh: 0.5 });
    const second = await register({ cp_id: "CP_R2", location: "Sevilla" });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ location: "Sevilla", price_per_kwh: 0.5 });
    const firstJti = (await verifier.verify(first.body.cp_credential)).jti;
    const secondJti = (await verifier.verify(second.body.cp_credential)).jti;
    expect(secondJti).not.toBe(firstJti);
    const [old] = await sql`select revoked_at, revoked_reason from cp_credentials where jti = ${firstJti}`;
    expect(old!.revoked_at).not.toBeNull();
    expect(old!.revoked_reason).toContain("superseded");
    const current = await sql`select jti from cp_credentials where cp_id = 'CP_R2' and revoked_at is null`;
    expect(current.map((r) => r.jti)).toEqual([secondJti]);
  });

  test("a CP registered without a price gets the default one", async () => {
    const reply = await register({ cp_id: "CP_R3", location: "Bilbao" });
    expect(reply.body.price_per_kwh).toBe(0.3);
  });
});

describe("reading a charging point", () => {
  test("shows the CP and its credential's dates but never the credential", async () => {
    const registered = await register({ cp_id: "CP_R4", location: "Valencia" });
    const reply = await call("GET", "/charging-points/CP_R4");
    expect(reply.status).toBe(200);
    expect(reply.body.charging_point).toMatchObject({ cp_id: "CP_R4", location: "Valencia" });
    expect(reply.body.charging_point.credential.expires_at).toBe(registered.body.credential_expires_at);
    expect(reply.text).not.toContain(registered.body.cp_credential);
    expect(reply.text).not.toContain(registered.body.cp_credential.split(".")[2]);
  });

  test("an unknown CP is a 404 in JSON", async () => {
    const reply = await call("GET", "/charging-points/NOPE_1");
    expect(reply.status).toBe(404);
    expect(reply.body.error).toMatchObject({ code: "not_found" });
  });

  test("a malformed CP id is a 422 naming the field", async () => {
    const reply = await call("GET", "/charging-points/bad%20id!");
    expect(reply.status).toBe(422);
    expect(reply.body.error.details[0].field).toBe("cp_id");
  });
});

describe("deregistering a charging point", () => {
  test("deregisters the CP: reads say so, its credential and keys are revoked", async () => {
    await register({ cp_id: "CP_R5", location: "Toledo" });
    const reply = await call("DELETE", "/charging-points/CP_R5", { token: ENROLLMENT_TOKEN });
    expect(reply.status).toBe(200);
    expect(reply.body.cp_id).toBe("CP_R5");
    expect((await call("GET", "/charging-points/CP_R5")).status).toBe(404);
    const [cp] = await sql`select deregistered_at, current_credential_id, status, status_reason from charging_points where cp_id = 'CP_R5'`;
    expect(cp!.deregistered_at).not.toBeNull();
    expect(cp!.current_credential_id).toBeNull();
    expect(cp).toMatchObject({ status: "DISCONNECTED", status_reason: "deregistered" });
    const live = await sql`select jti from cp_credentials where cp_id = 'CP_R5' and revoked_at is null`;
    expect(live.length).toBe(0);
    const [audit] = await auditRows({ eventType: "deregistration", resource: "cp/CP_R5" });
    expect(audit).toMatchObject({ action: "deregister", outcome: "success" });
  });

  test("a deregistered CP can be registered again and starts over", async () => {
    await register({ cp_id: "CP_R6", location: "Cuenca" });
    await call("DELETE", "/charging-points/CP_R6", { token: ENROLLMENT_TOKEN });
    const again = await register({ cp_id: "CP_R6", location: "Cuenca" });
    expect(again.status).toBe(200);
    expect(again.body.message).toContain("registered again");
    expect((await call("GET", "/charging-points/CP_R6")).status).toBe(200);
  });

  test("deregistering an unknown CP is a 404, audited", async () => {
    const reply = await call("DELETE", "/charging-points/GHOST_1", { token: ENROLLMENT_TOKEN });
    expect(reply.status).toBe(404);
    expect(await lastAudit()).toMatchObject({ event_type: "deregistration", outcome: "failure", resource: "cp/GHOST_1" });
  });
});

describe("refusing bad requests", () => {
  test("registration without the enrollment token is a 401, audited with the caller's address, and stores nothing", async () => {
    const reply = await call("POST", "/charging-points", { body: { cp_id: "CP_X1", location: "Madrid" } });
    expect(reply.status).toBe(401);
    expect(reply.body.error.code).toBe("unauthorized");
    const audit = await lastAudit();
    expect(audit).toMatchObject({ event_type: "security", outcome: "failure", reason: "missing token" });
    expect(audit.source_address).toBeTruthy();
    expect((await sql`select 1 from charging_points where cp_id = 'CP_X1'`).length).toBe(0);
  });

  test("registration with a wrong token is a 401, audited", async () => {
    const reply = await register({ cp_id: "CP_X2", location: "Madrid" }, "a-wrong-token-of-some-length");
    expect(reply.status).toBe(401);
    expect(await lastAudit()).toMatchObject({ event_type: "security", reason: "wrong token" });
    expect((await sql`select 1 from charging_points where cp_id = 'CP_X2'`).length).toBe(0);
  });

  test("deletion without the enrollment token is a 401 and deletes nothing", async () => {
    await register({ cp_id: "CP_X3", location: "Madrid" });
    const reply = await call("DELETE", "/charging-points/CP_X3");
    expect(reply.status).toBe(401);
    const [cp] = await sql`select deregistered_at from charging_points where cp_id = 'CP_X3'`;
    expect(cp!.deregistered_at).toBeNull();
  });

  test("malformed JSON is a 400, audited as a failed registration", async () => {
    const reply = await call("POST", "/charging-points", { token: ENROLLMENT_TOKEN, raw: '{"cp_id": "CP_X4", ' });
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe("bad_request");
    const audit = await lastAudit();
    expect(audit).toMatchObject({ event_type: "registration", outcome: "failure" });
    expect(audit.reason).toContain("400");
  });

  test("fields of the wrong type are a 422 naming each field, audited with the CP it named", async () => {
    const reply = await register({ cp_id: "CP_X5", location: 42, price_per_kwh: "cheap" });
    expect(reply.status).toBe(422);
    const fields = reply.body.error.details.map((d: { field: string }) => d.field).sort();
    expect(fields).toEqual(["location", "price_per_kwh"]);
    expect(await lastAudit()).toMatchObject({ event_type: "registration", outcome: "failure", resource: "cp/CP_X5" });
    expect((await sql`select 1 from charging_points where cp_id = 'CP_X5'`).length).toBe(0);
  });

  test("a control character in the location or the CP id is a 422 naming the field, audited with the id made printable", async () => {
    const location = await register({ cp_id: "CP_X7", location: "Madr\u0000id" });
    expect(location.status).toBe(422);
    expect(location.body.error.details).toEqual([{ field: "location", message: "location must not contain control characters" }]);
    expect(await lastAudit()).toMatchObject({ event_type: "registration", outcome: "failure", resource: "cp/CP_X7" });
    const id = await register({ cp_id: "CP_X\u00008", location: "Madrid" });
    expect(id.status).toBe(422);
    expect(id.body.error.details[0].field).toBe("cp_id");
    expect(await lastAudit()).toMatchObject({ event_type: "registration", outcome: "failure", resource: "cp/CP_X\\u00008" });
    const path = await call("DELETE", `/charging-points/${encodeURIComponent("CP\u0000X9")}`, { token: ENROLLMENT_TOKEN });
    expect(path.status).toBe(422);
    expect(await lastAudit()).toMatchObject({ event_type: "deregistration", outcome: "failure", resource: "cp/CP\\u0000X9" });
    expect((await sql`select 1 from charging_points where cp_id like 'CP_X7%' or cp_id like 'CP_X%8'`).length).toBe(0);
  });

  test("a body that is not JSON is a 400", async () => {
    const reply = await call("POST", "/charging-points", { token: ENROLLMENT_TOKEN, raw: "cp_id=CP_X6", contentType: "text/plain" });
    expect(reply.status).toBe(400);
  });

  test("the health endpoint answers", async () => {
    const reply = await call("GET", "/health");
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ status: "ok", service: "registry", database: "ok" });
  });
});

describe("starting the Registry", () => {
  test("refuses to start without its TLS files unless told to serve plain HTTP", async () => {
    const config = registryConfig({ REGISTRY_TLS_CERT: "/nonexistent/server.pem" });
    await expect(start(config)).rejects.toThrow(ConfigError);
    await expect(start(config)).rejects.toThrow(/HTTPS only/);
  });

  test("refuses plain HTTP on a host that is not loopback", async () => {
    await expect(start(registryConfig({ REGISTRY_INSECURE_HTTP: "true", REGISTRY_HOST: "0.0.0.0" }))).rejects.toThrow(/loopback/);
  });

  test("serves plain HTTP on loopback when explicitly told to", async () => {
    const plain = await start(registryConfig({ REGISTRY_INSECURE_HTTP: "true" }));
    try {
      expect(plain.url.startsWith("http://127.0.0.1")).toBe(true);
      expect((await fetch(`${plain.url}/ev/registry/health`)).status).toBe(200);
    } finally {
      await plain.stop();
    }
  });

  test("refuses to start without the enrollment token or with an unreadable signing key", async () => {
    expect(() => loadConfig(registryConfigSchema, {}, { REGISTRY_SIGNING_KEY: certs.signingKeyFile })).toThrow(/EVNET_ENROLLMENT_TOKEN/);
    await expect(start(registryConfig({ REGISTRY_SIGNING_KEY: "/nonexistent/key.pem" }))).rejects.toThrow(/REGISTRY_SIGNING_KEY/);
    await expect(start(registryConfig({ REGISTRY_SIGNING_KEY: certs.caFile }))).rejects.toThrow(/REGISTRY_SIGNING_KEY/);
  });
});
