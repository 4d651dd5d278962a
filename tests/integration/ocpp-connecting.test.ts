/**
 * Connecting at scale, without giving up what makes a connection safe: a charger that connects
 * again keeps its key and skips the slow password hash, but a revocation makes it prove its
 * password and get a new key; a charger that moves to another gateway gets a new key, its old
 * socket is closed, and Central's commands reach it through the new gateway only; a storm of
 * handshakes is answered 503 at once beyond what the gateway can check in time, and the chargers
 * that retry get in. The keys API the gateways use is checked at its edge. Chargers are raw
 * frames on Bun's WebSocket (tests/support/ocpp-raw.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { costOf } from "../../src/domain/billing.ts";
import { callJson, OPERATOR_TOKEN } from "../support/identity.ts";
import { jsonLines } from "../support/network-processes.ts";
import { GATEWAY_TOKEN, OcppNetwork } from "../support/ocpp-network.ts";
import { handshakeStatus, RawCharger } from "../support/ocpp-raw.ts";
import { waitFor } from "../support/wait.ts";

const net = new OcppNetwork();
const pw: Record<string, string> = {};
const iso = () => new Date().toISOString();
const STORM = Array.from({ length: 24 }, (_, i) => `STORM${String(i).padStart(2, "0")}`);

beforeAll(async () => {
  await net.startAll();
  for (const id of ["KEEP", "MOVER", "ROAMER"]) pw[id] = await net.registerCharger(id);
  for (const id of STORM) pw[id] = await net.registerCharger(id);
  await net.registerDriver("DMOVE");
  await net.registerDriver("DROAM");
}, 240_000);

afterAll(async () => {
  await net.stop();
});

async function booted(url: string, id: string): Promise<RawCharger> {
  const charger = await RawCharger.connect(url, id, { protocols: ["ocpp1.6"], password: pw[id] });
  charger.answers.set("ChangeAvailability", () => ({ status: "Accepted" }));
  await charger.call("BootNotification", { chargePointVendor: "Conn", chargePointModel: "T" });
  return charger;
}

const activeKey = async (cpId: string) =>
  (await net.sql`select key_id from cp_keys where cp_id = ${cpId} and revoked_at is null`)[0]?.key_id as string | undefined;
const keysIssued = async (cpId: string) => (await net.sql`select count(*)::int as n from cp_keys where cp_id = ${cpId}`)[0]!.n as number;

describe("connecting again", () => {
  test("a charger that connects again keeps its key and is recognised without the slow hash; the gateway audits it", async () => {
    const first = await booted(net.gatewayUrl, "KEEP");
    await net.waitForStatus("KEEP", "ACTIVE");
    const key = await activeKey("KEEP");
    expect(key).toBeString();
    await net.gateway.waitForLine(/charger connected cp_id=KEEP .*password=verified .*key=new/);
    first.close();
    await waitFor(async () => (await net.sql`select connection from ocpp_chargers where cp_id = 'KEEP'`)[0]?.connection === "offline", "offline");
    const again = await booted(net.gatewayUrl, "KEEP");
    expect((await again.call("Heartbeat", {})).currentTime).toBeString();
    await net.gateway.waitForLine(/charger connected cp_id=KEEP .*password=remembered .*key=kept/);
    expect(await activeKey("KEEP")).toBe(key);
    expect(await keysIssued("KEEP")).toBe(1);
    const authentications = () =>
      net.sql`select details from audit_events where action = 'authenticate' and resource = 'cp/KEEP' and outcome = 'success' order by id`;
    await waitFor(async () => (await authentications()).length === 2, "the gateway to audit the second authentication");
    const audits = await authentications();
    expect(audits[1]!.details).toMatchObject({ via: "ocpp gateway", gateway: "gateway-1", password: "remembered", key: "kept", key_id: key });
    // Its messages under the kept key are accepted: the CP stays ACTIVE and answers.
    await net.waitForStatus("KEEP", "ACTIVE");
    again.close();
  });

  test("a wrong password is refused even for a charger whose password is remembered", async () => {
    expect((await handshakeStatus(net.gatewayUrl, "KEEP", { protocols: ["ocpp1.6"], password: "Wrong-password-0123456789abcdef" })).status).toBe(401);
  });

  test("after a revocation the charger must prove its password again and gets a new key", async () => {
    const c = await booted(net.gatewayUrl, "KEEP");
    await net.waitForStatus("KEEP", "ACTIVE");
    const before = await activeKey("KEEP");
    const revoked = await callJson(net.certs.fetch, "POST", `${net.apiUrl}/ev/central/charging-points/KEEP/revoke-key`, { token: OPERATOR_TOKEN });
    expect(revoked.status).toBe(200);
    await waitFor(() => !c.open, "the gateway to close the socket under the revoked key", { timeoutMs: 15_000 });
    const seen = net.gateway.lines.length;
    const again = await booted(net.gatewayUrl, "KEEP");
    await net.waitForStatus("KEEP", "ACTIVE");
    await waitFor(
      () => net.gateway.lines.slice(seen).some((l) => /charger connected cp_id=KEEP .*password=verified .*key=new/.test(l)),
      "a full password check and a new key",
    );
    const after = await activeKey("KEEP");
    expect(after).toBeString();
    expect(after).not.toBe(before);
    again.close();
  });
});

describe("a charger moving to another gateway", () => {
  test("the old socket is closed, commands reach the new gateway only, and one charge is one session billed from the meter", async () => {
    const second = await net.startGateway("gateway-2");
    const old = await booted(net.gatewayUrl, "MOVER");
    await net.waitForStatus("MOVER", "ACTIVE");
    const oldKey = await activeKey("MOVER");
    // The charger's link went quiet; its load balancer now sends it to the second gateway while
    // the first still holds the old socket open.
    const moved = await booted(second.url, "MOVER");
    await waitFor(() => old.closedWith !== undefined, "the first gateway to close the superseded socket", { timeoutMs: 15_000 });
    expect(old.closedWith?.reason).toContain("connected elsewhere");
    // The new gateway records the connection as it admits it; the old one's close does not undo that.
    const where = async () => (await net.sql`select gateway, connection from ocpp_chargers where cp_id = 'MOVER'`)[0]!;
    await waitFor(async () => (await where()).gateway === "gateway-2", "gateway-2 to record the connection");
    await Bun.sleep(500);
    expect(await where()).toEqual({ gateway: "gateway-2", connection: "online" });
    expect(await activeKey("MOVER")).not.toBe(oldKey);
    await net.waitForStatus("MOVER", "ACTIVE");

    let meter = 1_000_000;
    moved.answers.set("RemoteStartTransaction", (p) => {
      setTimeout(async () => {
        const r = await moved.call("StartTransaction", { connectorId: 1, idTag: p.idTag, meterStart: meter, timestamp: iso() });
        meter += 4_321;
        await moved.call("MeterValues", {
          connectorId: 1,
          transactionId: r.transactionId,
          meterValue: [{ timestamp: iso(), sampledValue: [{ value: String(meter) }] }],
        });
      }, 50);
      return { status: "Accepted" };
    });
    moved.answers.set("RemoteStopTransaction", (p) => {
      setTimeout(
        () => void moved.call("StopTransaction", { transactionId: p.transactionId, meterStop: meter + 1_111, timestamp: iso(), reason: "Remote" }),
        50,
      );
      return { status: "Accepted" };
    });
    const driver = net.driver("DMOVE", ["--cp", "MOVER", "--charge-seconds", "4"]);
    const ticket = JSON.parse(await driver.waitForLine(/"type":"ticket"/, 60_000));
    expect([ticket.energy_kwh, ticket.cost_eur, ticket.end_reason]).toEqual([5.432, costOf(5.432, 0.3), "driver_stop"]);
    expect(moved.callsFromGateway.filter((c) => c.action === "RemoteStartTransaction").length).toBe(1);
    expect(old.callsFromGateway.filter((c) => c.action === "RemoteStartTransaction")).toEqual([]);
    expect((await net.sessionsAt("MOVER")).length).toBe(1);
    // The operator's stop reaches the charger where it is now.
    const mark = moved.callsFromGateway.length;
    expect((await callJson(net.certs.fetch, "POST", `${net.apiUrl}/ev/central/charging-points/MOVER/stop`, { token: OPERATOR_TOKEN })).status).toBe(202);
    expect(await moved.waitForCall("ChangeAvailability", mark, (p) => p.type === "Inoperative")).toEqual({ connectorId: 0, type: "Inoperative" });
    moved.close();
    await second.role.stop();
  });
});

describe("a charger that moves between gateways in the middle of a charge", () => {
  test("dropped from one gateway and back on another, then on the first again while still on the second: the session goes on, the stop reaches it where it is, billed once", async () => {
    const second = await net.startGateway("gateway-3");
    // Where each command of the charge arrived: which of the charger's sockets the gateway used.
    const arrived: { action: string; socket: string }[] = [];
    let meter = 2_000_000;
    let txId = 0;
    const sendMeter = (c: RawCharger) =>
      c.call("MeterValues", { connectorId: 1, transactionId: txId, meterValue: [{ timestamp: iso(), sampledValue: [{ value: String(meter) }] }] });
    // A real charger that loses its link reconnects without rebooting: no BootNotification on the new sockets.
    const socket = async (url: string, name: string): Promise<RawCharger> => {
      const c = await RawCharger.connect(url, "ROAMER", { protocols: ["ocpp1.6"], password: pw.ROAMER });
      c.answers.set("ChangeAvailability", () => ({ status: "Accepted" }));
      c.answers.set("RemoteStartTransaction", (p) => {
        arrived.push({ action: "RemoteStartTransaction", socket: name });
        setTimeout(async () => {
          txId = (await c.call("StartTransaction", { connectorId: 1, idTag: p.idTag, meterStart: meter, timestamp: iso() })).transactionId;
          meter += 1_000;
          await sendMeter(c);
        }, 50);
        return { status: "Accepted" };
      });
      c.answers.set("RemoteStopTransaction", (p) => {
        arrived.push({ action: "RemoteStopTransaction", socket: name });
        setTimeout(() => void c.call("StopTransaction", { transactionId: p.transactionId, meterStop: meter + 250, timestamp: iso(), reason: "Remote" }), 50);
        return { status: "Accepted" };
      });
      return c;
    };
    const where = async () => (await net.sql`select gateway, connection from ocpp_chargers where cp_id = 'ROAMER'`)[0]!;
    const energyNow = async () => (await net.openSessionAt("ROAMER"))?.energy_kwh;

    const onFirst = await socket(net.gatewayUrl, "first on gateway-1");
    await onFirst.call("BootNotification", { chargePointVendor: "Conn", chargePointModel: "T" });
    await net.waitForStatus("ROAMER", "ACTIVE");
    const driver = net.driver("DROAM", ["--cp", "ROAMER", "--charge-seconds", "40"]);
    await waitFor(async () => (await energyNow()) === 1, "the charge to start on gateway-1 with 1 kWh");
    const session = (await net.openSessionAt("ROAMER"))!;

    // Its link to gateway-1 drops; the load balancer sends it to gateway-3, where it sends what it measured.
    onFirst.close();
    await waitFor(async () => (await where()).connection === "offline", "gateway-1 to see the charger gone");
    const onSecond = await socket(second.url, "on gateway-3");
    await waitFor(async () => JSON.stringify(await where()) === JSON.stringify({ gateway: "gateway-3", connection: "online" }), "gateway-3 to hold it");
    meter += 2_000;
    await sendMeter(onSecond);
    await waitFor(async () => (await energyNow()) === 3, "the reading sent through gateway-3 to count in the same session");

    // Its link flaps back to gateway-1 while gateway-3 still holds the socket open.
    const back = await socket(net.gatewayUrl, "back on gateway-1");
    await waitFor(() => onSecond.closedWith !== undefined, "gateway-3 to close the superseded socket", { timeoutMs: 15_000 });
    expect(onSecond.closedWith?.reason).toContain("connected elsewhere");
    await waitFor(async () => JSON.stringify(await where()) === JSON.stringify({ gateway: "gateway-1", connection: "online" }), "gateway-1 to hold it again");
    meter += 500;
    await sendMeter(back);
    await waitFor(async () => (await energyNow()) === 3.5, "the reading sent back through gateway-1");

    // The driver's stop reaches the charger on the socket it holds now, and the ticket is the meter's.
    const ticket = JSON.parse(await driver.waitForLine(/"type":"ticket"/, 90_000));
    expect(arrived).toEqual([
      { action: "RemoteStartTransaction", socket: "first on gateway-1" },
      { action: "RemoteStopTransaction", socket: "back on gateway-1" },
    ]);
    expect([ticket.session_id, ticket.energy_kwh, ticket.cost_eur, ticket.end_reason]).toEqual([session.session_id, 3.75, costOf(3.75, 0.3), "driver_stop"]);
    const sessions = await net.sessionsAt("ROAMER");
    expect(sessions.map((s) => [s.session_id, s.status, s.energy_kwh])).toEqual([[session.session_id, "FINISHED", 3.75]]);
    const ended = await net.sql`select 1 from audit_events where action = 'end_session' and details->>'session_id' = ${session.session_id}`;
    expect(ended.length).toBe(1);
    expect(jsonLines(driver).filter((l) => l.type === "ticket").length).toBe(1);
    back.close();
    await second.role.stop();
  });
});

describe("a storm of handshakes", () => {
  test("beyond what the gateway can check in time, handshakes are answered 503 at once; retried, every charger gets in", async () => {
    // One password check at a time, and no handshake may wait for one: all but the first of a
    // burst are turned away.
    const storm = await net.startGateway("gateway-storm", { OCPP_PASSWORD_CHECKS: "1", OCPP_HANDSHAKE_WAIT: "0.001" });
    const burst = await Promise.all(STORM.map((id) => handshakeStatus(storm.url, id, { protocols: ["ocpp1.6"], password: pw[id] })));
    const statuses = burst.map((b) => b.status);
    expect(statuses.every((s) => s === 101 || s === 503)).toBe(true);
    expect(statuses).toContain(101);
    expect(statuses).toContain(503);
    await storm.role.waitForLine(/too many chargers connecting at once/);
    // Chargers come back one after another (with back-off): all of them are admitted.
    for (const [i, id] of STORM.entries()) {
      if (statuses[i] === 101) continue;
      let status = 0;
      for (let attempt = 0; attempt < 20 && status !== 101; attempt++) {
        status = (await handshakeStatus(storm.url, id, { protocols: ["ocpp1.6"], password: pw[id] })).status;
        if (status !== 101) await Bun.sleep(100 * 2 ** Math.min(attempt, 4));
      }
      expect(status).toBe(101);
    }
    await storm.role.stop();
  });
});

describe("the keys API the gateways use", () => {
  const url = () => `${net.apiUrl}/ev/central/ocpp/keys`;
  const ask = (body: unknown, token = GATEWAY_TOKEN) => callJson(net.certs.fetch, "POST", url(), { token, body });

  test("needs the gateway token", async () => {
    expect((await ask({ gateway: "x", chargers: [{ cp_id: "KEEP", proof: "password" }] }, "")).status).toBe(401);
    expect((await ask({ gateway: "x", chargers: [{ cp_id: "KEEP", proof: "password" }] }, OPERATOR_TOKEN)).status).toBe(401);
  });

  test("refuses malformed requests: no chargers, a charger twice, a bad proof, a bad id", async () => {
    expect((await ask({ gateway: "x", chargers: [] })).status).toBe(422);
    const twice = await ask({
      gateway: "x",
      chargers: [
        { cp_id: "STORM00", proof: "password" },
        { cp_id: "STORM00", proof: "password" },
      ],
    });
    expect([twice.status, twice.text]).toEqual([422, expect.stringContaining("at most once")]);
    expect((await ask({ gateway: "x", chargers: [{ cp_id: "STORM00", proof: "trust-me" }] })).status).toBe(422);
    expect((await ask({ gateway: "x", chargers: [{ cp_id: "no spaces", proof: "password" }] })).status).toBe(422);
    expect((await callJson(net.certs.fetch, "POST", url(), { token: GATEWAY_TOKEN, raw: "{not json" })).status).toBe(400);
  });

  test("issues keys for registered OCPP chargers in one request and lists the others as refused, audited", async () => {
    const reply = await ask({
      gateway: "gw-test",
      chargers: [
        { cp_id: "STORM01", proof: "password" },
        { cp_id: "NOT_A_CHARGER", proof: "password" },
        { cp_id: "STORM02", proof: "client_certificate", charger_address: "192.0.2.7" },
      ],
    });
    expect(reply.status).toBe(200);
    expect(reply.body.keys.map((k: { cp_id: string }) => k.cp_id)).toEqual(["STORM01", "STORM02"]);
    expect(reply.body.refused).toEqual([{ cp_id: "NOT_A_CHARGER", reason: "NOT_A_CHARGER is not a registered OCPP charger" }]);
    for (const k of reply.body.keys) expect(await activeKey(k.cp_id)).toBe(k.key_id);
    const refusal = await net.sql`select outcome, details from audit_events where action = 'authenticate' and resource = 'cp/NOT_A_CHARGER'`;
    expect(refusal.map((r) => r.outcome)).toEqual(["failure"]);
    const issued = await net.sql`select source_address from audit_events where action = 'issue_key' and resource = 'cp/STORM02' order by id desc limit 1`;
    expect(issued[0]?.source_address).toBe("192.0.2.7");
  });
});
