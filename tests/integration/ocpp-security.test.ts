/**
 * The gateway's doors: security profiles 1 (plain ws on loopback), 2 (TLS + password) and 3
 * (mutual TLS, the certificate naming the charger), a new connection replacing an old one (also
 * one that went silent without a close frame), dead connections noticed by pings, a revoked key
 * closing the socket until the charger connects again, and an operator's stop and the frost
 * reaching the charger as ChangeAvailability. Chargers are raw frames on Bun's WebSocket.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { chargerCertificateFiles, makeChargerCertificate } from "../../src/certs/make.ts";
import { callJson, OPERATOR_TOKEN, SERVICE_TOKEN } from "../support/identity.ts";
import { OcppNetwork } from "../support/ocpp-network.ts";
import { handshakeStatus, RawCharger } from "../support/ocpp-raw.ts";
import { waitFor } from "../support/wait.ts";

const net = new OcppNetwork();
let tlsUrl: string;
const pw: Record<string, string> = {};
let ca: string;
const cert = (id: string) => {
  const files = chargerCertificateFiles(net.certs.dir, id);
  return { cert: readFileSync(files.cert, "utf8"), key: readFileSync(files.key, "utf8") };
};

beforeAll(async () => {
  await net.startAll();
  tlsUrl = (await net.startGateway("gateway-tls", { OCPP_TLS_CERT: net.certs.certFile, OCPP_TLS_KEY: net.certs.keyFile })).url.replace(
    "127.0.0.1",
    "localhost",
  );
  ca = readFileSync(net.certs.caFile, "utf8");
  pw.P1 = await net.registerCharger("P1", { profile: 1 });
  pw.P2 = await net.registerCharger("P2", { profile: 2 });
  pw.P3 = await net.registerCharger("P3", { profile: 3, location: "Oslo" });
  pw.P3B = await net.registerCharger("P3B", { profile: 3 });
  await makeChargerCertificate(net.certs.dir, "P3");
  await makeChargerCertificate(net.certs.dir, "P3B");
}, 180_000);

afterAll(async () => {
  await net.stop();
});

async function booted(url: string, id: string, o: { password?: string; tls?: { ca: string; cert?: string; key?: string } }): Promise<RawCharger> {
  const charger = await RawCharger.connect(url, id, { protocols: ["ocpp1.6"], ...o });
  charger.answers.set("ChangeAvailability", () => ({ status: "Accepted" }));
  await charger.call("BootNotification", { chargePointVendor: "Sec", chargePointModel: "T" });
  return charger;
}

describe("security profiles", () => {
  test("profile 1: a password over ws:// on loopback; a profile 2 charger may not come over ws://", async () => {
    const c = await booted(net.gatewayUrl, "P1", { password: pw.P1 });
    await net.waitForStatus("P1", "ACTIVE");
    c.close();
    expect((await handshakeStatus(net.gatewayUrl, "P2", { protocols: ["ocpp1.6"], password: pw.P2 })).status).toBe(403);
  });

  test("a gateway refuses to serve plain ws:// beyond loopback unless allowed", async () => {
    const role = net.spawn("gateway-open", ["ocpp"], net.gatewayEnv({ OCPP_HOST: "0.0.0.0" }));
    expect(await role.waitForLine(/OCPP_HOST: plain ws:\/\//, 30_000)).toContain("OCPP_ALLOW_PLAIN");
  });

  test("profile 2: TLS and the password; a wrong password is refused", async () => {
    expect((await handshakeStatus(tlsUrl, "P2", { protocols: ["ocpp1.6"], password: "not-the-password-at-all", tls: { ca } })).status).toBe(401);
    const c = await booted(tlsUrl, "P2", { password: pw.P2, tls: { ca } });
    await net.waitForStatus("P2", "ACTIVE");
    c.close();
  });

  test("profile 3: the client certificate names the charger; none, or another charger's, is refused and audited", async () => {
    expect((await handshakeStatus(tlsUrl, "P3", { protocols: ["ocpp1.6"], password: pw.P3, tls: { ca } })).status).toBe(401);
    expect((await handshakeStatus(tlsUrl, "P3", { protocols: ["ocpp1.6"], tls: { ca, ...cert("P3B") } })).status).toBe(401);
    // Another charger's certificate is refused whatever that charger's profile.
    expect((await handshakeStatus(tlsUrl, "P2", { protocols: ["ocpp1.6"], password: pw.P2, tls: { ca, ...cert("P3") } })).status).toBe(401);
    const c = await booted(tlsUrl, "P3", { tls: { ca, ...cert("P3") } });
    await net.waitForStatus("P3", "ACTIVE");
    const audits = await net.sql`select reason from audit_events where action = 'ocpp_connect' and outcome = 'failure' and resource in ('cp/P3', 'cp/P2')`;
    expect(audits.map((a) => a.reason)).toEqual(
      expect.arrayContaining([expect.stringContaining("names P3B, not P3"), expect.stringContaining("names P3, not P2")]),
    );
    c.close();
  });
});

describe("connections", () => {
  test("a charger gone silent without a close frame does not lock it out: the new connection replaces it, and pings drop the old", async () => {
    const silent = await handshakeStatus(net.gatewayUrl, "P1", { protocols: ["ocpp1.6"], password: pw.P1, keepOpen: true });
    expect(silent.status).toBe(101);
    const fresh = await booted(net.gatewayUrl, "P1", { password: pw.P1 });
    expect((await fresh.call("Heartbeat", {})).currentTime).toBeString();
    await net.waitForStatus("P1", "ACTIVE");
    silent.socket?.destroy();
    // A second live connection replaces the first, which is closed.
    const second = await booted(net.gatewayUrl, "P1", { password: pw.P1 });
    await waitFor(() => !fresh.open, "the older connection to be closed");
    expect((await second.call("Heartbeat", {})).currentTime).toBeString();
    second.close();
  });

  test("a connection that stops answering pings is dropped within two ping intervals and shown offline", async () => {
    const row = async () =>
      (await net.sql`select connection, connection_seq, connected_at, disconnected_at from ocpp_chargers where cp_id = 'P1'`)[0] as {
        connection: string;
        connection_seq: number;
        connected_at: Date;
        disconnected_at: Date | null;
      };
    // The previous test's last connection may still be on its way into the row (recorded, then
    // closed, a few ms apart): the gateway writes a charger's connections in order, so once the
    // row says offline they are all written, and the next number is this test's connection.
    await waitFor(async () => (await row()).connection === "offline", "the previous connections to be closed");
    const before = (await row()).connection_seq;
    const silent = await handshakeStatus(net.gatewayUrl, "P1", { protocols: ["ocpp1.6"], password: pw.P1, keepOpen: true });
    expect(silent.status).toBe(101);
    // The connection is recorded (its own number), then, unanswered pings later, closed: read from
    // the row's times rather than by catching the moment it is online.
    await waitFor(async () => (await row()).connection_seq > before, "the connection to be recorded");
    const seq = (await row()).connection_seq;
    expect(seq).toBe(before + 1);
    await waitFor(async () => (await row()).connection === "offline", "offline", { timeoutMs: 15_000 });
    const closed = await row();
    expect(closed.connection_seq).toBe(seq);
    // OCPP_PING_INTERVAL is 2 s in these tests: dropped at the second unanswered ping.
    const heldMs = closed.disconnected_at!.getTime() - closed.connected_at.getTime();
    expect(heldMs).toBeGreaterThan(1_500);
    expect(heldMs).toBeLessThan(2 * 2_000 + 3_000);
    silent.socket?.destroy();
  });

  test("a revoked key closes the socket; the charger connects again, is re-authenticated and ACTIVE", async () => {
    const c = await booted(net.gatewayUrl, "P1", { password: pw.P1 });
    await net.waitForStatus("P1", "ACTIVE");
    const revoked = await callJson(net.certs.fetch, "POST", `${net.apiUrl}/ev/central/charging-points/P1/revoke-key`, { token: OPERATOR_TOKEN });
    expect(revoked.status).toBe(200);
    await waitFor(() => !c.open, "the gateway to close the charger's socket", { timeoutMs: 15_000 });
    await net.waitForStatus("P1", "STOPPED");
    const again = await booted(net.gatewayUrl, "P1", { password: pw.P1 });
    await net.waitForStatus("P1", "ACTIVE");
    expect((await again.call("Heartbeat", {})).currentTime).toBeString();
    again.close();
  });
});

describe("availability", () => {
  test("an operator's stop and resume reach the charger as ChangeAvailability", async () => {
    const c = await booted(net.gatewayUrl, "P1", { password: pw.P1 });
    await net.waitForStatus("P1", "ACTIVE");
    const before = c.callsFromGateway.length;
    expect((await callJson(net.certs.fetch, "POST", `${net.apiUrl}/ev/central/charging-points/P1/stop`, { token: OPERATOR_TOKEN })).status).toBe(202);
    expect(await c.waitForCall("ChangeAvailability", before, (p) => p.type === "Inoperative")).toEqual({ connectorId: 0, type: "Inoperative" });
    await net.waitForStatus("P1", "STOPPED");
    const mid = c.callsFromGateway.length;
    expect((await callJson(net.certs.fetch, "POST", `${net.apiUrl}/ev/central/charging-points/P1/resume`, { token: OPERATOR_TOKEN })).status).toBe(202);
    expect(await c.waitForCall("ChangeAvailability", mid)).toEqual({ connectorId: 0, type: "Operative" });
    c.close();
  });

  test("frost in the charger's city makes it Inoperative (2.0.1 over mutual TLS), and the thaw Operative again", async () => {
    const c = await RawCharger.connect(tlsUrl, "P3", { protocols: ["ocpp2.0.1"], tls: { ca, ...cert("P3") } });
    c.answers.set("ChangeAvailability", () => ({ status: "Accepted" }));
    await c.call("BootNotification", { reason: "PowerUp", chargingStation: { vendorName: "Sec", model: "T3" } });
    await net.waitForStatus("P3", "ACTIVE");
    const temperature = (t: number) =>
      callJson(net.certs.fetch, "PUT", `${net.apiUrl}/ev/central/city-temperature`, { token: SERVICE_TOKEN, body: { city: "Oslo", temperature_c: t } });
    const before = c.callsFromGateway.length;
    expect((await temperature(-7)).status).toBeLessThan(300);
    // (Coming back ACTIVE it may first be told Operative.)
    expect(await c.waitForCall("ChangeAvailability", before, (p) => p.operationalStatus === "Inoperative")).toEqual({ operationalStatus: "Inoperative" });
    await net.waitForStatus("P3", "OUT_OF_SERVICE");
    const mid = c.callsFromGateway.length;
    expect((await temperature(4)).status).toBeLessThan(300);
    expect(await c.waitForCall("ChangeAvailability", mid)).toEqual({ operationalStatus: "Operative" });
    c.close();
  });
});
