/**
 * OCPP 1.6J against `evnet ocpp`, with a charger written from the specification (raw frames on
 * Bun's WebSocket, tests/support/ocpp-raw.ts), through the real Registry, API, Central, Kafka
 * and PostgreSQL: boot, heartbeats, status, Authorize, local and remote charges billed from the
 * charger's meter, retried starts, malformed calls and DataTransfer.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { costOf } from "../../src/domain/billing.ts";
import { OcppNetwork } from "../support/ocpp-network.ts";
import { type Frame, handshakeStatus, RawCharger } from "../support/ocpp-raw.ts";
import { waitFor } from "../support/wait.ts";

const net = new OcppNetwork();
let password: string;
const CP = "OCPP16_A";
const iso = (ms = 0) => new Date(Date.now() + ms).toISOString();

beforeAll(async () => {
  await net.startAll();
  password = await net.registerCharger(CP, { price: 0.3 });
  await net.registerDriver("D16");
}, 180_000);

afterAll(async () => {
  await net.stop();
});

async function connect(id = CP, pw = password): Promise<RawCharger> {
  const charger = await RawCharger.connect(net.gatewayUrl, id, { protocols: ["ocpp1.6"], password: pw });
  charger.answers.set("ChangeAvailability", () => ({ status: "Accepted" }));
  return charger;
}

describe("OCPP 1.6J", () => {
  let charger: RawCharger;

  test("negotiates ocpp1.6 and refuses a handshake that agrees no subprotocol, an unknown id or a wrong password", async () => {
    expect((await handshakeStatus(net.gatewayUrl, CP, { protocols: ["ocpp1.6"], password })).status).toBe(101);
    expect((await handshakeStatus(net.gatewayUrl, CP, { protocols: ["ocpp1.6"], password })).protocol).toBe("ocpp1.6");
    expect((await handshakeStatus(net.gatewayUrl, CP, { protocols: ["ocpp1.5"], password })).status).toBe(400);
    expect((await handshakeStatus(net.gatewayUrl, CP, { password })).status).toBe(400);
    expect((await handshakeStatus(net.gatewayUrl, "NOBODY", { protocols: ["ocpp1.6"], password })).status).toBe(404);
    expect((await handshakeStatus(net.gatewayUrl, CP, { protocols: ["ocpp1.6"], password: "wrong-password-1234" })).status).toBe(401);
    expect((await handshakeStatus(net.gatewayUrl, CP, { protocols: ["ocpp1.6"] })).status).toBe(401);
    const refusals = await net.sql`select reason from audit_events where action = 'ocpp_connect' and outcome = 'failure'`;
    expect(refusals.map((r) => r.reason)).toEqual(
      expect.arrayContaining([expect.stringContaining("no subprotocol"), expect.stringContaining("not a registered"), "wrong password"]),
    );
  });

  test("boots: Accepted with the heartbeat interval, and the CP shows vendor, model and firmware and becomes ACTIVE", async () => {
    charger = await connect();
    expect(charger.protocol).toBe("ocpp1.6");
    const boot = await charger.call("BootNotification", {
      chargePointVendor: "ACME",
      chargePointModel: "Wallbox 22",
      chargePointSerialNumber: "SN-1",
      firmwareVersion: "1.2.3",
    });
    expect(boot.status).toBe("Accepted");
    expect(boot.interval).toBe(60);
    expect(Number.isNaN(Date.parse(boot.currentTime))).toBe(false);
    expect((await charger.call("Heartbeat", {})).currentTime).toBeString();
    expect(await charger.call("StatusNotification", { connectorId: 1, errorCode: "NoError", status: "Available" })).toEqual({});
    await net.waitForStatus(CP, "ACTIVE");
    await waitFor(async () => (await net.cpRow(CP))?.vendor === "ACME", "the boot info to reach Central");
    const row = (await net.cpRow(CP))!;
    expect([row.protocol, row.protocol_version, row.model, row.serial_number, row.firmware_version, row.keeps_charging_offline]).toEqual([
      "ocpp",
      "1.6",
      "Wallbox 22",
      "SN-1",
      "1.2.3",
      true,
    ]);
  });

  test("answers malformed calls with the right CallError and goes on working", async () => {
    const extra = await charger.callFrame("Heartbeat", { surprise: 1 });
    expect(extra.slice(0, 3)).toEqual([4, extra[1], "PropertyConstraintViolation"]);
    const missing = await charger.callFrame("BootNotification", { chargePointVendor: "ACME" });
    expect(missing[2]).toBe("OccurrenceConstraintViolation");
    const wrongType = await charger.callFrame("StartTransaction", { connectorId: "one", idTag: "D16", meterStart: 0, timestamp: iso() });
    expect(wrongType[2]).toBe("TypeConstraintViolation");
    const unknown = await charger.callFrame("MakeCoffee", {});
    expect(unknown[2]).toBe("NotImplemented");
    charger.sendRaw("this is not JSON");
    charger.sendRaw(JSON.stringify({ not: "an array" }));
    expect((await charger.call("Heartbeat", {})).currentTime).toBeString();
    // 1.6 has no RpcFrameworkError: an unreadable frame is a FormationViolation.
    const unreadable = charger.frames.filter((f) => f[0] === 4 && f[1] === "-1");
    expect(unreadable.map((f) => f[2])).toEqual(["FormationViolation", "FormationViolation"]);
    expect(charger.open).toBe(true);
  });

  test("Authorize accepts a driver account's id tag and refuses an unknown one, or a driver id without an account", async () => {
    expect((await charger.call("Authorize", { idTag: "D16" })).idTagInfo.status).toBe("Accepted");
    expect((await charger.call("Authorize", { idTag: "STRANGER" })).idTagInfo.status).toBe("Invalid");
    await net.sql`insert into drivers (driver_id) values ('D_NO_ACCOUNT')`;
    expect((await charger.call("Authorize", { idTag: "D_NO_ACCOUNT" })).idTagInfo.status).toBe("Invalid");
  });

  test("a local start by RFID, sent twice, is one session; meter values stream; the stop bills the charger's meter exactly", async () => {
    const start = { connectorId: 1, idTag: "D16", meterStart: 120_500, timestamp: iso(-60_000) };
    const first = await charger.call("StartTransaction", start);
    const again = await charger.call("StartTransaction", start);
    expect(first.idTagInfo.status).toBe("Accepted");
    expect(Number.isInteger(first.transactionId)).toBe(true);
    expect(again.transactionId).toBe(first.transactionId);
    await waitFor(async () => (await net.status(CP)) === "SUPPLYING", "the local session to start");
    const open = (await net.openSessionAt(CP))!;
    expect(open.driver_id).toBe("D16");
    await charger.call("MeterValues", {
      connectorId: 1,
      transactionId: first.transactionId,
      meterValue: [
        {
          timestamp: iso(-30_000),
          sampledValue: [
            { value: "7.4", measurand: "Power.Active.Import", unit: "kW" },
            { value: "121.75", measurand: "Energy.Active.Import.Register", unit: "kWh", context: "Sample.Periodic" },
          ],
        },
      ],
    });
    await waitFor(async () => (await net.session(open.session_id))!.energy_kwh === 1.25, "live energy from the meter");
    await charger.call("StopTransaction", { transactionId: first.transactionId, meterStop: 132_345, timestamp: iso(), reason: "EVDisconnected" });
    await waitFor(async () => (await net.session(open.session_id))!.status === "FINISHED", "the session to close");
    const closed = (await net.session(open.session_id))!;
    expect(closed.energy_kwh).toBe(11.845);
    expect(closed.cost_eur).toBe(costOf(11.845, 0.3));
    expect(closed.end_reason).toBe("unplugged");
    expect((await net.sessionsAt(CP)).length).toBe(1);
    // The same stop again (the charger did not hear the answer) changes nothing.
    await charger.call("StopTransaction", { transactionId: first.transactionId, meterStop: 132_345, timestamp: iso(), reason: "EVDisconnected" });
    await net.waitForStatus(CP, "ACTIVE");
    expect((await net.session(open.session_id))!.energy_kwh).toBe(11.845);
  });

  test("a driver charges with evnet driver: remote start and stop, and the ticket matches the charger's meter", async () => {
    let meter = 500_000;
    let txId = 0;
    charger.answers.set("RemoteStartTransaction", (p) => {
      setTimeout(async () => {
        const r = await charger.call("StartTransaction", { connectorId: 1, idTag: p.idTag, meterStart: meter, timestamp: iso() });
        txId = r.transactionId;
        meter += 2_345;
        await charger.call("MeterValues", {
          connectorId: 1,
          transactionId: txId,
          meterValue: [{ timestamp: iso(), sampledValue: [{ value: String(meter) }] }],
        });
      }, 50);
      return { status: "Accepted" };
    });
    charger.answers.set("RemoteStopTransaction", (p) => {
      setTimeout(
        () => void charger.call("StopTransaction", { transactionId: p.transactionId, meterStop: meter + 1_000, timestamp: iso(), reason: "Remote" }),
        50,
      );
      return { status: "Accepted" };
    });
    const driver = net.driver("D16", ["--cp", CP, "--charge-seconds", "4"]);
    const ticketLine = await driver.waitForLine(/"type":"ticket"/, 60_000);
    const ticket = JSON.parse(ticketLine);
    expect(ticket.energy_kwh).toBe(3.345);
    expect(ticket.cost_eur).toBe(costOf(3.345, 0.3));
    expect(ticket.end_reason).toBe("driver_stop");
    expect(charger.callsFromGateway.find((c) => c.action === "RemoteStartTransaction")?.payload).toEqual({ connectorId: 1, idTag: "D16" });
    expect(charger.callsFromGateway.find((c) => c.action === "RemoteStopTransaction")?.payload).toEqual({ transactionId: txId });
  });

  test("a StopTransaction whose start never arrived is billed from the Transaction.Begin reading it carries, once", async () => {
    const stop = {
      transactionId: 987_654,
      meterStop: 64_000,
      timestamp: iso(-3_600_000),
      reason: "Local",
      idTag: "D16",
      transactionData: [
        { timestamp: iso(-7_200_000), sampledValue: [{ value: "60000", context: "Transaction.Begin" }] },
        { timestamp: iso(-3_600_000), sampledValue: [{ value: "64000", context: "Transaction.End" }] },
      ],
    };
    const known = new Set((await net.sessionsAt(CP)).map((r) => r.session_id));
    const before = known.size;
    expect((await charger.call("StopTransaction", stop)).idTagInfo.status).toBe("Accepted");
    await charger.call("StopTransaction", stop);
    await waitFor(async () => (await net.sessionsAt(CP)).length === before + 1, "the replayed transaction's session");
    // It started two hours ago, by the charger's clock: not the newest session, the new one.
    const replayed = (await net.sessionsAt(CP)).find((r) => !known.has(r.session_id))!;
    await waitFor(async () => (await net.session(replayed.session_id))?.status === "FINISHED", "it to be closed");
    const closed = (await net.session(replayed.session_id))!;
    expect([closed.energy_kwh, closed.driver_id]).toEqual([4, "D16"]);
    expect((await net.sessionsAt(CP)).length).toBe(before + 1);
    // Without a start reading it cannot be billed: audited, and the charger still gets its answer.
    await charger.call("StopTransaction", { transactionId: 55, meterStop: 1_000, timestamp: iso(), idTag: "D16" });
    await waitFor(async () => (await net.sql`select 1 from audit_events where action = 'bill_transaction' and outcome = 'failure'`).length === 1, "the audit");
    await net.waitForStatus(CP, "ACTIVE");
  });

  test("the API shows the charger's protocol, version, maker, model and connection", async () => {
    const res = await net.certs.fetch(`${net.apiUrl}/ev/central/charging-points/${CP}`);
    const cp = ((await res.json()) as { charging_point: Record<string, any> }).charging_point;
    expect([cp.protocol, cp.protocol_version, cp.vendor, cp.model, cp.firmware_version, cp.connection_state]).toEqual([
      "ocpp",
      "1.6",
      "ACME",
      "Wallbox 22",
      "1.2.3",
      "online",
    ]);
    expect(cp.ocpp).toMatchObject({ security_profile: 1, gateway: "gateway-1" });
    expect(JSON.stringify(cp)).not.toContain(password);
  });

  test("DataTransfer is answered UnknownVendorId and audited", async () => {
    expect((await charger.call("DataTransfer", { vendorId: "com.example", messageId: "x", data: "hi" })).status).toBe("UnknownVendorId");
    await waitFor(async () => (await net.sql`select 1 from audit_events where action = 'data_transfer'`).length === 1, "the audit entry");
  });

  test("a Faulted connector makes the CP BROKEN, Available again makes it ACTIVE", async () => {
    await charger.call("StatusNotification", { connectorId: 1, errorCode: "GroundFailure", status: "Faulted" });
    await net.waitForStatus(CP, "BROKEN");
    await charger.call("StatusNotification", { connectorId: 1, errorCode: "NoError", status: "Available" });
    await net.waitForStatus(CP, "ACTIVE");
  });

  test("calls sent without waiting are answered in the order sent", async () => {
    const frames: Promise<Frame>[] = [];
    for (let i = 0; i < 5; i++) frames.push(charger.callFrame("Authorize", { idTag: i % 2 ? "D16" : "NOPE" }, `burst-${i}`));
    await Promise.all(frames);
    const order = charger.frames.filter((f) => f[0] === 3 && String(f[1]).startsWith("burst-")).map((f) => f[1]);
    expect(order).toEqual(["burst-0", "burst-1", "burst-2", "burst-3", "burst-4"]);
  });
});
