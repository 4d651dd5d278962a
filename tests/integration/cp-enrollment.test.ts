/**
 * A monitor's identity against a real Registry and API over HTTPS (trusting the test CA), the
 * real PostgreSQL and Kafka: it registers, keeps its credential and key in an owner-only file,
 * authenticates, changes location, deregisters; after a revocation it notices (by Central's
 * notice or by checking) and authenticates again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyRevokedNotice } from "../../src/bus/security-notice.ts";
import { loadConfig } from "../../src/config/env.ts";
import type { ChannelKey } from "../../src/crypto/keys.ts";
import { createLogger } from "../../src/lib/log.ts";
import { apiConfigSchema } from "../../src/roles/api/config.ts";
import { start as startApi } from "../../src/roles/api/index.ts";
import {
  activeKeyId,
  authenticate,
  changeLocation,
  deregister,
  ensureIdentity,
  type IdentityConfig,
  IdentityError,
  loadIdentity,
  RefusedError,
  reauthenticate,
  register,
} from "../../src/roles/cp-monitor/enrollment.ts";
import { identityFile } from "../../src/roles/cp-monitor/identity-store.ts";
import { startKeyGuard } from "../../src/roles/cp-monitor/key-guard.ts";
import { registryConfigSchema } from "../../src/roles/registry/config.ts";
import { start as startRegistry } from "../../src/roles/registry/index.ts";
import { callJson, ENROLLMENT_TOKEN, makeTestCerts, newMasterKeyHex, OPERATOR_TOKEN, SERVICE_TOKEN, type TestCerts } from "../support/identity.ts";
import { createTestDatabase, kafkaBrokers, type TestDatabase, testTopicPrefix } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

const log = createLogger("monitor-test");
let certs: TestCerts;
let database: TestDatabase;
let registry: { url: string; stop(): Promise<void> };
let api: { url: string; stop(): Promise<void> };
let dataDir: string;
let monitor: IdentityConfig;

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
  api = await startApi(
    loadConfig(
      apiConfigSchema,
      {},
      {
        DATABASE_URL: database.url,
        KAFKA_BROKERS: kafkaBrokers().join(","),
        EVNET_TOPIC_PREFIX: testTopicPrefix(),
        API_PORT: "0",
        API_TLS_CERT: certs.certFile,
        API_TLS_KEY: certs.keyFile,
        REGISTRY_PUBLIC_KEY: certs.publicKeyFile,
        EVNET_CONTROL_SIGNING_KEY: certs.controlKeyFile,
        EVNET_MASTER_KEY: newMasterKeyHex(),
        EVNET_OPERATOR_TOKEN: OPERATOR_TOKEN,
        EVNET_SERVICE_TOKEN: SERVICE_TOKEN,
      },
    ),
  );
  dataDir = mkdtempSync(join(tmpdir(), "evnet-monitor-"));
  monitor = {
    REGISTRY_URL: registry.url,
    API_URL: api.url,
    EVNET_CA_FILE: certs.caFile,
    EVNET_ENROLLMENT_TOKEN: ENROLLMENT_TOKEN,
    EVNET_DATA_DIR: dataDir,
    KEY_CHECK_INTERVAL: 0.2,
  };
});

afterAll(async () => {
  await api?.stop();
  await registry?.stop();
  await database?.drop();
  certs?.remove();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const revoke = (cpId: string) => callJson(certs.fetch, "POST", `${api.url}/ev/central/charging-points/${cpId}/revoke-key`, { token: OPERATOR_TOKEN });

describe("registering and authenticating from the monitor", () => {
  test("registers over HTTPS and keeps the credential in a file only its owner can read", async () => {
    const identity = await register(monitor, { cpId: "CP_M1", location: "Madrid", pricePerKwh: 0.4 });
    expect(identity.credential).toBeString();
    const file = identityFile(dataDir, "CP_M1");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadIdentity(dataDir, "CP_M1")).toMatchObject({ cp_id: "CP_M1", location: "Madrid", price_per_kwh: 0.4 });
  });

  test("authenticates with the stored credential and stores the key, which matches what the API says is active", async () => {
    const key = await authenticate(monitor, "CP_M1");
    expect(key.key.length).toBe(32);
    expect(loadIdentity(dataDir, "CP_M1")!.key_id).toBe(key.keyId);
    expect(statSync(identityFile(dataDir, "CP_M1")).mode & 0o777).toBe(0o600);
    expect(await activeKeyId(monitor, "CP_M1")).toBe(key.keyId);
  });

  test("changing location registers again with a new credential and keeps the price", async () => {
    const before = loadIdentity(dataDir, "CP_M1")!;
    const after = await changeLocation(monitor, "CP_M1", "Sevilla");
    expect(after).toMatchObject({ location: "Sevilla", price_per_kwh: 0.4 });
    expect(after.credential).not.toBe(before.credential);
    expect(after.key_id).toBe(before.key_id);
  });

  test("ensureIdentity registers and authenticates as asked, and otherwise uses the stored key", async () => {
    const first = await ensureIdentity(monitor, { cpId: "CP_M2", location: "Bilbao", register: true, authenticate: true, log });
    expect(first.identity.location).toBe("Bilbao");
    const again = await ensureIdentity(monitor, { cpId: "CP_M2", register: false, authenticate: false, log });
    expect(again.key.keyId).toBe(first.key.keyId);
    await expect(ensureIdentity(monitor, { cpId: "CP_M3", register: false, authenticate: false, log })).rejects.toThrow(/authenticate it first/);
  });

  test("without the enrollment token the monitor says so instead of asking the Registry", async () => {
    const { EVNET_ENROLLMENT_TOKEN: _token, ...withoutToken } = monitor;
    await expect(register(withoutToken, { cpId: "CP_M4", location: "Madrid" })).rejects.toThrow(/EVNET_ENROLLMENT_TOKEN/);
  });

  test("a wrong CA is a clear error, not a silent insecure connection", async () => {
    const other = await makeTestCerts();
    try {
      const err = await register({ ...monitor, EVNET_CA_FILE: other.caFile }, { cpId: "CP_M5", location: "Madrid" }).catch((e) => e);
      expect(err).toBeInstanceOf(IdentityError);
      expect(err.message).toContain("cannot reach the Registry");
    } finally {
      other.remove();
    }
  });

  test("deregistering forgets the credential and key; authenticating then says to register first", async () => {
    await register(monitor, { cpId: "CP_M6", location: "Madrid" });
    await authenticate(monitor, "CP_M6");
    expect(await deregister(monitor, "CP_M6")).toContain("CP_M6");
    expect(loadIdentity(dataDir, "CP_M6")).toBeUndefined();
    await expect(authenticate(monitor, "CP_M6")).rejects.toThrow(/register it first/);
  });
});

describe("after a revocation", () => {
  test("reauthenticate gets a new key with the stored credential", async () => {
    await register(monitor, { cpId: "CP_N1", location: "Madrid" });
    const old = await authenticate(monitor, "CP_N1");
    await revoke("CP_N1");
    const fresh = await reauthenticate(monitor, { cpId: "CP_N1", log });
    expect(fresh.keyId).not.toBe(old.keyId);
    expect(await activeKeyId(monitor, "CP_N1")).toBe(fresh.keyId);
  });

  test("a superseded credential is renewed (the token is at hand) before authenticating again", async () => {
    await register(monitor, { cpId: "CP_N2", location: "Madrid" });
    await authenticate(monitor, "CP_N2");
    const stale = readFileSync(identityFile(dataDir, "CP_N2"), "utf8");
    await register(monitor, { cpId: "CP_N2", location: "Madrid" }); // elsewhere, a newer credential
    await Bun.write(identityFile(dataDir, "CP_N2"), stale); // this monitor still holds the old one
    const err = await authenticate(monitor, "CP_N2").catch((e) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect(err.reason).toBe("superseded");
    const key = await reauthenticate(monitor, { cpId: "CP_N2", log });
    expect(await activeKeyId(monitor, "CP_N2")).toBe(key.keyId);
  });

  test("the key guard notices a revocation by checking, and hands over the new key", async () => {
    await register(monitor, { cpId: "CP_N3", location: "Madrid" });
    let current: ChannelKey = await authenticate(monitor, "CP_N3");
    const handed: string[] = [];
    const guard = startKeyGuard({
      config: monitor,
      cpId: "CP_N3",
      log,
      currentKeyId: () => current.keyId,
      onNewKey: (key) => {
        current = key;
        handed.push(key.keyId);
      },
    });
    try {
      const revoked = current.keyId;
      await revoke("CP_N3");
      await waitFor(() => handed.length === 1, "the guard to re-authenticate", { timeoutMs: 10_000 });
      expect(current.keyId).not.toBe(revoked);
      expect(await activeKeyId(monitor, "CP_N3")).toBe(current.keyId);
      await guard.checkNow();
      expect(handed.length).toBe(1); // the new key is the active one: nothing more to do
    } finally {
      guard.stop();
    }
  });

  test("the key guard acts on Central's notice for its current key, and ignores one for an older key", async () => {
    await register(monitor, { cpId: "CP_N4", location: "Madrid" });
    let current: ChannelKey = await authenticate(monitor, "CP_N4");
    const handed: string[] = [];
    const guard = startKeyGuard({
      config: { ...monitor, KEY_CHECK_INTERVAL: 3600 },
      cpId: "CP_N4",
      log,
      currentKeyId: () => current.keyId,
      onNewKey: (key) => {
        current = key;
        handed.push(key.keyId);
      },
    });
    try {
      guard.noticeRevoked(keyRevokedNotice("CP_N4", "k_some-older-key", "revoked by operator"));
      await guard.checkNow();
      expect(handed.length).toBe(0);
      const revoked = current.keyId;
      await revoke("CP_N4");
      guard.noticeRevoked(keyRevokedNotice("CP_N4", revoked, "revoked by operator"));
      await waitFor(() => handed.length === 1, "the guard to act on the notice");
      expect(current.keyId).not.toBe(revoked);
    } finally {
      guard.stop();
    }
  });

  test("a deregistered CP is not registered again behind the operator's back", async () => {
    await register(monitor, { cpId: "CP_N5", location: "Madrid" });
    await authenticate(monitor, "CP_N5");
    const kept = readFileSync(identityFile(dataDir, "CP_N5"), "utf8");
    await callJson(certs.fetch, "DELETE", `${registry.url}/ev/registry/charging-points/CP_N5`, { token: ENROLLMENT_TOKEN });
    await Bun.write(identityFile(dataDir, "CP_N5"), kept);
    const err = await reauthenticate(monitor, { cpId: "CP_N5", log }).catch((e) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect(err.reason).toBe("deregistered");
  });
});
