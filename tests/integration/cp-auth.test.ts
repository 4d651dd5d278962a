/**
 * CP authentication and key revocation through the API, against the real PostgreSQL and Kafka,
 * with credentials from a real Registry over HTTPS: a valid credential buys a fresh key that is
 * stored only wrapped; every bad credential is a 401 with its reason, audited, and issues no
 * key; revocation stops the key and tells Central on the control topic.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import postgres from "postgres";
import type { BusMessage, Subscription } from "../../src/bus/bus.ts";
import { KafkaBus } from "../../src/bus/kafka.ts";
import { allTopics, topicsFor } from "../../src/bus/topics.ts";
import { loadConfig } from "../../src/config/env.ts";
import { createCredentialSigner, generateSigningKeyPair } from "../../src/crypto/credentials.ts";
import { parseMasterKey, unwrapKey } from "../../src/crypto/keys.ts";
import { apiConfigSchema } from "../../src/roles/api/config.ts";
import { start as startApi } from "../../src/roles/api/index.ts";
import { registryConfigSchema } from "../../src/roles/registry/config.ts";
import { start as startRegistry } from "../../src/roles/registry/index.ts";
import { controlKeyEnv, readControl } from "../support/control.ts";
import {
  callJson,
  ENROLLMENT_TOKEN,
  type JsonCall,
  makeTestCerts,
  newMasterKeyHex,
  OPERATOR_TOKEN,
  readText,
  SERVICE_TOKEN,
  type TestCerts,
} from "../support/identity.ts";
import { createTestDatabase, kafkaBrokers, type TestDatabase, testTopicPrefix } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

const prefix = testTopicPrefix();
const masterKeyHex = newMasterKeyHex();
let certs: TestCerts;
let database: TestDatabase;
let sql: postgres.Sql;
let registry: { url: string; stop(): Promise<void> };
let api: { url: string; stop(): Promise<void> };
let observer: KafkaBus;
let subscription: Subscription;
const control: BusMessage[] = [];

function apiEnv(overrides: Record<string, string> = {}) {
  return {
    DATABASE_URL: database.url,
    KAFKA_BROKERS: kafkaBrokers().join(","),
    EVNET_TOPIC_PREFIX: prefix,
    API_PORT: "0",
    API_TLS_CERT: certs.certFile,
    API_TLS_KEY: certs.keyFile,
    REGISTRY_PUBLIC_KEY: certs.publicKeyFile,
    EVNET_MASTER_KEY: masterKeyHex,
    EVNET_OPERATOR_TOKEN: OPERATOR_TOKEN,
    EVNET_SERVICE_TOKEN: SERVICE_TOKEN,
    ...controlKeyEnv(),
    ...overrides,
  };
}

beforeAll(async () => {
  certs = await makeTestCerts();
  database = await createTestDatabase();
  registry = await startRegistry(
    loadConfig(
      registryConfigSchema,
      {},
      {
        DATABASE_URL: database.url,
        REGISTRY_PORT: "0",
        REGISTRY_TLS_CERT: certs.certFile,
        REGISTRY_TLS_KEY: certs.keyFile,
        REGISTRY_SIGNING_KEY: certs.signingKeyFile,
        EVNET_ENROLLMENT_TOKEN: ENROLLMENT_TOKEN,
      },
    ),
  );
  observer = new KafkaBus({ brokers: kafkaBrokers(), clientId: "cp-auth-test", sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 });
  await observer.ensureTopics(allTopics(topicsFor(prefix)));
  subscription = await observer.subscribe({ topics: [topicsFor(prefix).centralControl], groupId: `${prefix}-observer`, from: "earliest" }, async (batch) => {
    control.push(...batch);
  });
  api = await startApi(loadConfig(apiConfigSchema, {}, apiEnv()));
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
});

afterAll(async () => {
  await api?.stop();
  await registry?.stop();
  await subscription?.close();
  await observer?.close();
  await sql?.end();
  await database?.drop();
  certs?.remove();
});

const central = (path: string, method = "GET", init: JsonCall = {}) => callJson(certs.fetch, method, `${api.url}/ev/central${path}`, init);
const authenticate = (body: unknown) => central("/auth", "POST", { body });

async function registerCp(cpId: string, location = "Madrid"): Promise<string> {
  const reply = await callJson(certs.fetch, "POST", `${registry.url}/ev/registry/charging-points`, {
    token: ENROLLMENT_TOKEN,
    body: { cp_id: cpId, location },
  });
  expect(reply.status).toBeLessThan(300);
  return reply.body.cp_credential;
}

async function lastAuthAudit(cpId: string) {
  const [row] = await sql`select event_type, action, outcome, reason, actor_id, source_address from audit_events
    where event_type = 'authentication' and resource = ${`cp/${cpId}`} order by id desc limit 1`;
  return row!;
}

const keysOf = (cpId: string) => sql`select key_id, wrapped_key, revoked_at, revoked_reason from cp_keys where cp_id = ${cpId} order by created_at`;
const controlFor = (cpId: string) => control.filter((m) => m.key === cpId).map((m) => readControl(m));

async function expectRefused(cpId: string, body: unknown, reason: string) {
  const before = (await keysOf(cpId)).length;
  const reply = await authenticate(body);
  expect(reply.status).toBe(401);
  expect(reply.body.error.code).toBe("unauthorized");
  expect(reply.body.error.details.reason).toBe(reason);
  expect(reply.text).not.toContain('"key"');
  const audit = await lastAuthAudit(cpId);
  expect(audit).toMatchObject({ outcome: "failure", action: "authenticate" });
  expect(audit.reason).toStartWith(reason);
  expect(audit.source_address).toBeTruthy();
  expect((await keysOf(cpId)).length).toBe(before);
  return reply;
}

describe("authenticating a charging point", () => {
  test("a registered CP's credential buys a fresh 256-bit key, returned once over HTTPS", async () => {
    const credential = await registerCp("CP_A1");
    const reply = await authenticate({ cp_id: "CP_A1", cp_credential: credential });
    expect(api.url.startsWith("https://")).toBe(true);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ cp_id: "CP_A1", algorithm: "AES-256-GCM" });
    expect(Buffer.from(reply.body.key, "base64").length).toBe(32);
    expect(reply.body.key_id).toStartWith("k_");
    expect(await lastAuthAudit("CP_A1")).toMatchObject({ outcome: "success" });
    const [issue] = await sql`select details from audit_events where event_type = 'key' and resource = 'cp/CP_A1'`;
    expect(issue!.details.key_id).toBe(reply.body.key_id);
  });

  test("the key is stored only wrapped under the master key, never in plaintext", async () => {
    const credential = await registerCp("CP_A2");
    const reply = await authenticate({ cp_credential: credential });
    const key = Buffer.from(reply.body.key, "base64");
    const [row] = await sql`select * from cp_keys where key_id = ${reply.body.key_id}`;
    const stored = JSON.stringify(row);
    for (const encoding of ["hex", "base64", "base64url"] as const) expect(stored).not.toContain(key.toString(encoding));
    expect(stored).not.toContain(key.toString("latin1"));
    const unwrapped = unwrapKey(parseMasterKey(masterKeyHex), { type: "cp", id: "CP_A2" }, reply.body.key_id, row!.wrapped_key);
    expect(Buffer.from(unwrapped).equals(key)).toBe(true);
  });

  test("tells Central on the control topic, keyed by the CP, without the key", async () => {
    const credential = await registerCp("CP_A3");
    const reply = await authenticate({ cp_id: "CP_A3", cp_credential: credential });
    await waitFor(() => controlFor("CP_A3").length > 0, "the cp_authenticated control message");
    expect(controlFor("CP_A3")[0]).toMatchObject({ type: "cp_authenticated", cp_id: "CP_A3", key_id: reply.body.key_id });
    const raw = new TextDecoder().decode(control.find((m) => m.key === "CP_A3")!.value);
    expect(raw).not.toContain(reply.body.key);
  });

  test("authenticating again replaces the key: the old one is revoked as superseded", async () => {
    const credential = await registerCp("CP_A4");
    const first = await authenticate({ cp_credential: credential });
    const second = await authenticate({ cp_credential: credential });
    expect(second.body.key_id).not.toBe(first.body.key_id);
    const keys = await keysOf("CP_A4");
    expect(keys.map((k) => [k.key_id, k.revoked_at === null])).toEqual([
      [first.body.key_id, false],
      [second.body.key_id, true],
    ]);
    expect(keys[0]!.revoked_reason).toContain("superseded");
  });
});

describe("refusing bad credentials", () => {
  test("an expired credential is a 401 'expired', audited", async () => {
    await registerCp("CP_B1");
    const signer = await createCredentialSigner(readText(certs.signingKeyFile));
    const expired = await signer.issue("CP_B1", 60, new Date(Date.now() - 3600_000));
    await expectRefused("CP_B1", { cp_id: "CP_B1", cp_credential: expired.token }, "expired");
  });

  test("a credential with alg none is a 401, audited", async () => {
    const credential = await registerCp("CP_B2");
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${credential.split(".")[1]}.`;
    await expectRefused("CP_B2", { cp_id: "CP_B2", cp_credential: unsigned }, "algorithm_not_allowed");
  });

  test("a credential signed with another key is a 401 'bad_signature', audited", async () => {
    await registerCp("CP_B3");
    const forger = await createCredentialSigner((await generateSigningKeyPair()).privatePem);
    const forged = await forger.issue("CP_B3", 3600);
    await expectRefused("CP_B3", { cp_id: "CP_B3", cp_credential: forged.token }, "bad_signature");
  });

  test("another CP's credential is a 401 'cp_mismatch', audited against the CP it claimed", async () => {
    await registerCp("CP_B4");
    const othersCredential = await registerCp("CP_B5");
    await expectRefused("CP_B4", { cp_id: "CP_B4", cp_credential: othersCredential }, "cp_mismatch");
  });

  test("a credential replaced by a newer registration is a 401 'superseded', audited", async () => {
    const old = await registerCp("CP_B6");
    await registerCp("CP_B6", "Sevilla");
    await expectRefused("CP_B6", { cp_id: "CP_B6", cp_credential: old }, "superseded");
  });

  test("a deregistered CP's credential is a 401 'deregistered', audited", async () => {
    const credential = await registerCp("CP_B7");
    await callJson(certs.fetch, "DELETE", `${registry.url}/ev/registry/charging-points/CP_B7`, { token: ENROLLMENT_TOKEN });
    await expectRefused("CP_B7", { cp_credential: credential }, "deregistered");
  });

  test("a properly signed credential for a CP that was never registered is a 401 'not_registered'", async () => {
    const signer = await createCredentialSigner(readText(certs.signingKeyFile));
    const orphan = await signer.issue("CP_NEVER", 3600);
    const reply = await authenticate({ cp_credential: orphan.token });
    expect(reply.status).toBe(401);
    expect(reply.body.error.details.reason).toBe("not_registered");
    expect((await lastAuthAudit("CP_NEVER")).outcome).toBe("failure");
  });

  test("garbage, malformed JSON and wrong types get clear 4xx errors, audited", async () => {
    expect((await authenticate({ cp_credential: "garbage" })).body.error.details.reason).toBe("malformed");
    const malformed = await central("/auth", "POST", { raw: "{not json" });
    expect(malformed.status).toBe(400);
    const wrongType = await authenticate({ cp_id: "CP_B8", cp_credential: 12345 });
    expect(wrongType.status).toBe(422);
    expect(wrongType.body.error.details[0].field).toBe("cp_credential");
    expect(await lastAuthAudit("CP_B8")).toMatchObject({ outcome: "failure" });
    const hidden = await authenticate({ cp_id: "CP_B8", cp_credential: "eyJ\u0000.x.y" });
    expect(hidden.status).toBe(422);
    expect(hidden.body.error.details[0]).toMatchObject({ field: "cp_credential", message: "cp_credential must not contain control characters" });
    const [malformedAudit] = await sql`select reason from audit_events where event_type = 'authentication' and reason like '400:%' order by id desc limit 1`;
    expect(malformedAudit!.reason).toContain("JSON");
  });
});

describe("revoking a CP's key", () => {
  test("an operator revokes the active key: Central is told, key-status shows none", async () => {
    const credential = await registerCp("CP_C1");
    const auth = await authenticate({ cp_credential: credential });
    expect((await central("/charging-points/CP_C1/key-status")).body.key_id).toBe(auth.body.key_id);
    const reply = await central("/charging-points/CP_C1/revoke-key", "POST", { token: OPERATOR_TOKEN });
    expect(reply.status).toBe(200);
    expect(reply.body.revoked_key_ids).toEqual([auth.body.key_id]);
    const [key] = await sql`select revoked_at, revoked_reason from cp_keys where key_id = ${auth.body.key_id}`;
    expect(key!.revoked_at).not.toBeNull();
    expect((await central("/charging-points/CP_C1/key-status")).body).toMatchObject({ cp_id: "CP_C1", key_id: null });
    await waitFor(() => controlFor("CP_C1").some((m) => m?.type === "key_revoked"), "the key_revoked control message");
    expect(controlFor("CP_C1").find((m) => m?.type === "key_revoked")).toMatchObject({ key_ids: [auth.body.key_id], actor_type: "operator" });
    const [audit] = await sql`select outcome, actor_type from audit_events where event_type = 'revocation' and resource = 'cp/CP_C1'`;
    expect(audit).toMatchObject({ outcome: "success", actor_type: "operator" });
  });

  test("after revocation the CP authenticates again with its credential and gets a new key", async () => {
    const credential = await registerCp("CP_C2");
    const first = await authenticate({ cp_credential: credential });
    await central("/charging-points/CP_C2/revoke-key", "POST", { token: OPERATOR_TOKEN });
    const again = await authenticate({ cp_credential: credential });
    expect(again.status).toBe(200);
    expect(again.body.key_id).not.toBe(first.body.key_id);
    expect((await central("/charging-points/CP_C2/key-status")).body.key_id).toBe(again.body.key_id);
  });

  test("revocation needs the operator token: the service token and no token are 401", async () => {
    const credential = await registerCp("CP_C3");
    await authenticate({ cp_credential: credential });
    expect((await central("/charging-points/CP_C3/revoke-key", "POST")).status).toBe(401);
    expect((await central("/charging-points/CP_C3/revoke-key", "POST", { token: SERVICE_TOKEN })).status).toBe(401);
    expect((await central("/charging-points/CP_C3/key-status")).body.key_id).not.toBeNull();
  });

  test("revoking an unknown CP is a 404 and a CP without a key a 409, both audited", async () => {
    expect((await central("/charging-points/CP_NONE/revoke-key", "POST", { token: OPERATOR_TOKEN })).status).toBe(404);
    await registerCp("CP_C4");
    const reply = await central("/charging-points/CP_C4/revoke-key", "POST", { token: OPERATOR_TOKEN });
    expect(reply.status).toBe(409);
    const rows = await sql`select resource, outcome, reason from audit_events where event_type = 'revocation' and outcome = 'failure' order by id`;
    expect(rows.map((r) => [r.resource, r.reason])).toEqual([
      ["cp/CP_NONE", "not registered"],
      ["cp/CP_C4", "no active key"],
    ]);
  });
});

function nonLoopbackAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  return undefined;
}

describe("an API configured for plain HTTP", () => {
  test("hands keys to loopback clients only", async () => {
    const { API_TLS_CERT: _cert, API_TLS_KEY: _key, ...withoutTls } = apiEnv({ API_HOST: "0.0.0.0" });
    const plain = await startApi(loadConfig(apiConfigSchema, {}, withoutTls));
    try {
      const credential = await registerCp("CP_D1");
      const port = new URL(plain.url).port;
      const local = await callJson(fetch, "POST", `http://127.0.0.1:${port}/ev/central/auth`, { body: { cp_credential: credential } });
      expect(local.status).toBe(200);
      const address = nonLoopbackAddress();
      if (!address) throw new Error("this machine has no non-loopback IPv4 address to test from");
      const remote = await callJson(fetch, "POST", `http://${address}:${port}/ev/central/auth`, { body: { cp_credential: credential } });
      expect(remote.status).toBe(403);
      expect(remote.body.error.message).toContain("loopback");
      expect(remote.text).not.toContain('"key"');
      const [audit] = await sql`select reason, source_address from audit_events where event_type = 'authentication' order by id desc limit 1`;
      expect(audit!.reason).toContain("403");
      expect(audit!.source_address).toContain(address);
      expect((await keysOf("CP_D1")).length).toBe(1);
    } finally {
      await plain.stop();
    }
  });
});

describe("starting the API", () => {
  test("refuses to start without a master key, and names the variable", async () => {
    expect(() => loadConfig(apiConfigSchema, {}, apiEnv({ EVNET_MASTER_KEY: "" }))).toThrow(/EVNET_MASTER_KEY/);
    expect(() => loadConfig(apiConfigSchema, {}, apiEnv({ EVNET_MASTER_KEY: "too-short" }))).toThrow(/EVNET_MASTER_KEY/);
  });

  test("a master key error does not echo the key", () => {
    const secret = "this-is-not-long-enough";
    try {
      loadConfig(apiConfigSchema, {}, apiEnv({ EVNET_MASTER_KEY: secret }));
      throw new Error("accepted");
    } catch (err) {
      expect((err as Error).message).not.toContain(secret);
    }
  });

  test("refuses to start with a Registry public key file that cannot be read", async () => {
    await expect(startApi(loadConfig(apiConfigSchema, {}, apiEnv({ REGISTRY_PUBLIC_KEY: "/nonexistent.pem" })))).rejects.toThrow(/REGISTRY_PUBLIC_KEY/);
  });
});
