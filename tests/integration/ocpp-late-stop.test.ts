/**
 * A driver stops while the OCPP charger is offline: Central cannot reach it, so after the grace
 * it closes the session with the last reading it had and sends the driver that ticket. The
 * charger, which went on charging until it was told to stop, comes back and sends its real
 * stop (1.6 StopTransaction, 2.0.1 TransactionEvent Ended) with its final meter reading: the
 * ticket is corrected to the meter (energy, cost, end time), once, audited, and a repeated stop
 * changes nothing. Chargers are raw frames on Bun's WebSocket (tests/support/ocpp-raw.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { costOf } from "../../src/domain/billing.ts";
import { callJson, OPERATOR_TOKEN } from "../support/identity.ts";
import { OcppNetwork } from "../support/ocpp-network.ts";
import { RawCharger } from "../support/ocpp-raw.ts";
import { waitFor } from "../support/wait.ts";

const net = new OcppNetwork();
const pw: Record<string, string> = {};
const iso = (ms = 0) => new Date(Date.now() + ms).toISOString();
const PRICE = 0.4;

beforeAll(async () => {
  await net.startAll();
  for (const id of ["LATE16", "LATE201"]) pw[id] = await net.registerCharger(id, { price: PRICE });
  for (const id of ["DLATE16", "DLATE201"]) await net.registerDriver(id);
}, 180_000);

afterAll(async () => {
  await net.stop();
});

async function connect(id: string, protocol: "ocpp1.6" | "ocpp2.0.1"): Promise<RawCharger> {
  const c = await RawCharger.connect(net.gatewayUrl, id, { protocols: [protocol], password: pw[id] });
  c.answers.set("ChangeAvailability", () => ({ status: "Accepted" }));
  return c;
}

/** The driver charges; the charger drops off once the first reading is billed; the driver's stop finds it gone. */
async function chargeThenLoseCharger(id: string, driverId: string, charger: RawCharger, firstKwh: number) {
  const driver = net.driver(driverId, ["--cp", id, "--charge-seconds", "6"]);
  await waitFor(async () => (await net.openSessionAt(id))?.energy_kwh === firstKwh, "the first reading to be billed");
  const session = (await net.openSessionAt(id))!;
  charger.close();
  const ticket = JSON.parse(await driver.waitForLine(/"type":"ticket"/, 90_000));
  expect([ticket.session_id, ticket.energy_kwh]).toEqual([session.session_id, firstKwh]);
  expect((await net.session(session.session_id))?.status).not.toBe("IN_PROGRESS");
  return { sessionId: session.session_id as string, ticket };
}

async function expectCorrected(sessionId: string, kwh: number, stoppedAt: string) {
  await waitFor(async () => (await net.session(sessionId))?.energy_kwh === kwh, "the charger's late stop to correct the ticket");
  const s = (await net.session(sessionId))!;
  expect([s.energy_kwh, s.cost_eur, s.end_reason]).toEqual([kwh, costOf(kwh, PRICE), "driver_stop"]);
  expect(s.ended_at.toISOString()).toBe(new Date(stoppedAt).toISOString());
  expect(s.corrected_at).toBeInstanceOf(Date);
  const corrections = await net.sql`select outcome from audit_events where action = 'correct_ticket' and details->>'session_id' = ${sessionId}`;
  expect(corrections.map((c) => c.outcome)).toEqual(["success"]);
  // The driver gets the ticket again, marked corrected; the API shows the corrected figures.
  await waitFor(async () => (await net.ticketsSent(sessionId)).length === 2, "the corrected ticket on its way to the driver");
  expect((await net.ticketsSent(sessionId))[1]).toMatchObject({ energy_kwh: kwh, cost_eur: costOf(kwh, PRICE), corrected: true });
  const api = await callJson(net.certs.fetch, "GET", `${net.apiUrl}/ev/central/sessions/${sessionId}`, { token: OPERATOR_TOKEN });
  expect([api.body.session.energy_kwh, api.body.session.cost_eur]).toEqual([kwh, costOf(kwh, PRICE)]);
}

describe("a driver's stop while the OCPP charger is offline", () => {
  test("1.6: the late StopTransaction corrects the ticket to the charger's meter, once", async () => {
    let charger = await connect("LATE16", "ocpp1.6");
    await charger.call("BootNotification", { chargePointVendor: "Late", chargePointModel: "16" });
    await charger.call("StatusNotification", { connectorId: 1, errorCode: "NoError", status: "Available" });
    await net.waitForStatus("LATE16", "ACTIVE");
    let txId = 0;
    charger.answers.set("RemoteStartTransaction", (p) => {
      setTimeout(async () => {
        txId = (await charger.call("StartTransaction", { connectorId: 1, idTag: p.idTag, meterStart: 100_000, timestamp: iso() })).transactionId;
        await charger.call("MeterValues", { connectorId: 1, transactionId: txId, meterValue: [{ timestamp: iso(), sampledValue: [{ value: "101000" }] }] });
      }, 50);
      return { status: "Accepted" };
    });
    const { sessionId } = await chargeThenLoseCharger("LATE16", "DLATE16", charger, 1);

    // Back: it never heard the stop, so it stopped by itself later, having delivered 2.5 kWh.
    charger = await connect("LATE16", "ocpp1.6");
    const stoppedAt = iso(-2_000);
    const stop = { transactionId: txId, meterStop: 102_500, timestamp: stoppedAt, reason: "Local" };
    expect(await charger.call("StopTransaction", stop)).toEqual({});
    await expectCorrected(sessionId, 2.5, stoppedAt);
    // The same stop sent again changes nothing.
    expect(await charger.call("StopTransaction", stop)).toEqual({});
    await Bun.sleep(1_000);
    expect((await net.session(sessionId))?.energy_kwh).toBe(2.5);
    expect((await net.sql`select 1 from audit_events where action = 'correct_ticket' and details->>'session_id' = ${sessionId}`).length).toBe(1);
    charger.close();
  }, 180_000);

  test("2.0.1: the late TransactionEvent Ended corrects the ticket to the charger's meter", async () => {
    let seq = 0;
    const energy = (wh: number, context: string, at = iso()) => ({
      timestamp: at,
      sampledValue: [{ value: wh, context, measurand: "Energy.Active.Import.Register", unitOfMeasure: { unit: "Wh", multiplier: 0 } }],
    });
    const event = (eventType: string, extra: Record<string, unknown>) => ({
      eventType,
      timestamp: iso(),
      triggerReason: eventType === "Started" ? "RemoteStart" : eventType === "Ended" ? "StopAuthorized" : "MeterValuePeriodic",
      seqNo: seq++,
      transactionInfo: { transactionId: "tx-late" },
      evse: { id: 1, connectorId: 1 },
      ...extra,
    });
    let charger = await connect("LATE201", "ocpp2.0.1");
    await charger.call("BootNotification", { reason: "PowerUp", chargingStation: { vendorName: "Late", model: "201" } });
    await charger.call("StatusNotification", { timestamp: iso(), connectorStatus: "Available", evseId: 1, connectorId: 1 });
    await net.waitForStatus("LATE201", "ACTIVE");
    charger.answers.set("RequestStartTransaction", (p) => {
      setTimeout(async () => {
        await charger.call("TransactionEvent", event("Started", { idToken: p.idToken, meterValue: [energy(50_000, "Transaction.Begin")] }));
        await charger.call("TransactionEvent", event("Updated", { meterValue: [energy(50_750, "Sample.Periodic")] }));
      }, 50);
      return { status: "Accepted" };
    });
    const { sessionId } = await chargeThenLoseCharger("LATE201", "DLATE201", charger, 0.75);

    charger = await connect("LATE201", "ocpp2.0.1");
    const stoppedAt = iso(-3_000);
    await charger.call(
      "TransactionEvent",
      event("Ended", {
        offline: true,
        timestamp: stoppedAt,
        transactionInfo: { transactionId: "tx-late", stoppedReason: "Local" },
        meterValue: [energy(53_210, "Transaction.End", stoppedAt)],
      }),
    );
    await expectCorrected(sessionId, 3.21, stoppedAt);
    charger.close();
  }, 180_000);
});
