/**
 * OCPP 2.0.1 against `evnet ocpp` with a charger written from the specification (raw frames,
 * tests/support/ocpp-raw.ts): boot, status, Authorize, TransactionEvent Started / Updated /
 * Ended for local and remote charges, repeated events, and what a charger does after an
 * outage: it keeps charging while disconnected (a missed heartbeat does not end its session),
 * then replays late meter values and its stop, billed once from its meter; a stop whose start
 * never arrived is billed from the start reading it carries.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { costOf } from "../../src/domain/billing.ts";
import { OcppNetwork } from "../support/ocpp-network.ts";
import { RawCharger } from "../support/ocpp-raw.ts";
import { waitFor } from "../support/wait.ts";

const net = new OcppNetwork();
const CP = "OCPP201_A";
let password: string;
const iso = (ms = 0) => new Date(Date.now() + ms).toISOString();
const energy = (wh: number, context = "Sample.Periodic", at = iso()) => ({
  timestamp: at,
  sampledValue: [{ value: wh, context, measurand: "Energy.Active.Import.Register", unitOfMeasure: { unit: "Wh", multiplier: 0 } }],
});
let seq = 0;
const event = (eventType: string, transactionId: string, extra: Record<string, unknown> = {}) => ({
  eventType,
  timestamp: iso(),
  triggerReason: eventType === "Started" ? "Authorized" : eventType === "Ended" ? "StopAuthorized" : "MeterValuePeriodic",
  seqNo: seq++,
  transactionInfo: { transactionId },
  evse: { id: 1, connectorId: 1 },
  ...extra,
});

beforeAll(async () => {
  await net.startAll();
  password = await net.registerCharger(CP, { price: 0.25 });
  await net.registerDriver("D201");
}, 180_000);

afterAll(async () => {
  await net.stop();
});

async function connect(): Promise<RawCharger> {
  const charger = await RawCharger.connect(net.gatewayUrl, CP, { protocols: ["ocpp2.0.1", "ocpp1.6"], password });
  charger.answers.set("ChangeAvailability", () => ({ status: "Accepted" }));
  return charger;
}

async function boot(charger: RawCharger): Promise<void> {
  const answer = await charger.call("BootNotification", {
    reason: "PowerUp",
    chargingStation: { vendorName: "Volt", model: "DC-50", serialNumber: "V-9", firmwareVersion: "2.0.1-rc" },
  });
  expect(answer.status).toBe("Accepted");
}

describe("OCPP 2.0.1", () => {
  let charger: RawCharger;

  test("prefers ocpp2.0.1, boots, and the CP shows its vendor and model and becomes ACTIVE", async () => {
    charger = await connect();
    expect(charger.protocol).toBe("ocpp2.0.1");
    await boot(charger);
    expect(await charger.call("StatusNotification", { timestamp: iso(), connectorStatus: "Available", evseId: 1, connectorId: 1 })).toEqual({});
    expect((await charger.call("Heartbeat", {})).currentTime).toBeString();
    await net.waitForStatus(CP, "ACTIVE");
    await waitFor(async () => (await net.cpRow(CP))?.model === "DC-50", "the boot info");
    expect((await net.cpRow(CP))?.protocol_version).toBe("2.0.1");
  });

  test("malformed calls get their CallError: an extra field, a missing one, a wrong type, an unknown action", async () => {
    expect((await charger.callFrame("Heartbeat", { x: 1 }))[2]).toBe("PropertyConstraintViolation");
    expect((await charger.callFrame("Authorize", {}))[2]).toBe("OccurrenceConstraintViolation");
    expect((await charger.callFrame("Authorize", { idToken: { idToken: 5, type: "ISO14443" } }))[2]).toBe("TypeConstraintViolation");
    expect((await charger.callFrame("FlyToTheMoon", {}))[2]).toBe("NotImplemented");
    expect(charger.open).toBe(true);
  });

  test("Authorize: a known driver is Accepted, an unknown token Invalid", async () => {
    expect((await charger.call("Authorize", { idToken: { idToken: "D201", type: "ISO14443" } })).idTokenInfo.status).toBe("Accepted");
    expect((await charger.call("Authorize", { idToken: { idToken: "AA:BB:CC", type: "ISO14443" } })).idTokenInfo.status).toBe("Invalid");
  });

  test("a local charge: Started twice is one session, Updated streams, Ended bills the charger's meter", async () => {
    const started = event("Started", "tx-local-1", { idToken: { idToken: "D201", type: "ISO14443" }, meterValue: [energy(10_000, "Transaction.Begin")] });
    expect((await charger.call("TransactionEvent", started)).idTokenInfo.status).toBe("Accepted");
    await charger.call("TransactionEvent", started);
    await net.waitForStatus(CP, "SUPPLYING");
    const open = (await net.openSessionAt(CP))!;
    await charger.call("TransactionEvent", event("Updated", "tx-local-1", { meterValue: [energy(12_500)] }));
    await waitFor(async () => (await net.session(open.session_id))?.energy_kwh === 2.5, "live energy");
    await charger.call(
      "TransactionEvent",
      event("Ended", "tx-local-1", {
        transactionInfo: { transactionId: "tx-local-1", stoppedReason: "EVDisconnected" },
        meterValue: [energy(17_777, "Transaction.End")],
      }),
    );
    await waitFor(async () => (await net.session(open.session_id))?.status === "FINISHED", "the session to end");
    const closed = (await net.session(open.session_id))!;
    expect([closed.energy_kwh, closed.cost_eur, closed.end_reason]).toEqual([7.777, costOf(7.777, 0.25), "unplugged"]);
    expect((await net.sessionsAt(CP)).length).toBe(1);
    await net.waitForStatus(CP, "ACTIVE");
  });

  test("a driver charges with evnet driver: RequestStartTransaction and RequestStopTransaction, the ticket from the meter", async () => {
    let register = 40_000;
    charger.answers.set("RequestStartTransaction", (p) => {
      setTimeout(async () => {
        await charger.call("TransactionEvent", event("Started", "tx-remote-1", { idToken: p.idToken, meterValue: [energy(register, "Transaction.Begin")] }));
        register += 1_234;
        await charger.call("TransactionEvent", event("Updated", "tx-remote-1", { meterValue: [energy(register)] }));
      }, 50);
      return { status: "Accepted" };
    });
    charger.answers.set("RequestStopTransaction", (p) => {
      setTimeout(
        () =>
          void charger.call(
            "TransactionEvent",
            event("Ended", p.transactionId, {
              triggerReason: "RemoteStop",
              transactionInfo: { transactionId: p.transactionId, stoppedReason: "Remote" },
              meterValue: [energy(register + 766, "Transaction.End")],
            }),
          ),
        50,
      );
      return { status: "Accepted" };
    });
    const driver = net.driver("D201", ["--cp", CP, "--charge-seconds", "4"]);
    const ticket = JSON.parse(await driver.waitForLine(/"type":"ticket"/, 60_000));
    expect([ticket.energy_kwh, ticket.cost_eur, ticket.end_reason]).toEqual([2, costOf(2, 0.25), "driver_stop"]);
    const start = charger.callsFromGateway.find((c) => c.action === "RequestStartTransaction")!.payload;
    expect(start.idToken).toEqual({ idToken: "D201", type: "Central" });
    expect(charger.callsFromGateway.find((c) => c.action === "RequestStopTransaction")!.payload).toEqual({ transactionId: "tx-remote-1" });
  });

  test("a charger that loses its connection keeps its session open; back, it replays late readings and its stop, billed once", async () => {
    await charger.call(
      "TransactionEvent",
      event("Started", "tx-offline", { idToken: { idToken: "D201", type: "ISO14443" }, meterValue: [energy(100_000, "Transaction.Begin")] }),
    );
    await net.waitForStatus(CP, "SUPPLYING");
    const open = (await net.openSessionAt(CP))!;
    charger.close();
    // Central hears no heartbeat for 3 intervals: the CP is disconnected, the session goes on.
    await net.waitForStatus(CP, "DISCONNECTED", 30_000);
    await Bun.sleep(2_000);
    expect((await net.session(open.session_id))?.status).toBe("IN_PROGRESS");
    charger = await connect();
    await boot(charger);
    await charger.call("TransactionEvent", event("Updated", "tx-offline", { offline: true, meterValue: [energy(103_000, "Sample.Periodic", iso(-20_000))] }));
    await charger.call(
      "TransactionEvent",
      event("Ended", "tx-offline", {
        offline: true,
        transactionInfo: { transactionId: "tx-offline", stoppedReason: "Local" },
        meterValue: [energy(104_321, "Transaction.End", iso(-10_000))],
      }),
    );
    await waitFor(async () => (await net.session(open.session_id))?.status === "FINISHED", "the replayed stop to close the session");
    // The same stop replayed once more changes nothing.
    await charger.call(
      "TransactionEvent",
      event("Ended", "tx-offline", {
        transactionInfo: { transactionId: "tx-offline", stoppedReason: "Local" },
        meterValue: [energy(104_321, "Transaction.End")],
      }),
    );
    await Bun.sleep(1_000);
    const closed = (await net.session(open.session_id))!;
    expect([closed.energy_kwh, closed.end_reason]).toEqual([4.321, "driver_stop"]);
    const tickets = await net.sql`select 1 from audit_events where action = 'end_session' and details->>'session_id' = ${open.session_id}`;
    expect(tickets.length).toBe(1);
  });

  test("an Ended whose Started never arrived is billed from its Transaction.Begin reading", async () => {
    await net.waitForStatus(CP, "ACTIVE");
    await charger.call(
      "TransactionEvent",
      event("Ended", "tx-lost-start", {
        idToken: { idToken: "D201", type: "ISO14443" },
        transactionInfo: { transactionId: "tx-lost-start", stoppedReason: "EVDisconnected" },
        meterValue: [energy(200_000, "Transaction.Begin", iso(-600_000)), energy(203_210, "Transaction.End", iso(-60_000))],
      }),
    );
    await waitFor(
      async () => (await net.sql`select 1 from ocpp_transactions where ocpp_tx_id = 'tx-lost-start' and status = 'ended'`).length === 1,
      "the record",
    );
    await waitFor(async () => (await net.sessionsAt(CP)).some((s) => s.status === "FINISHED" && s.energy_kwh === 3.21), "the session billed 3.210 kWh");
  });

  test("a Faulted connector makes the CP BROKEN; Available again, ACTIVE", async () => {
    await charger.call("StatusNotification", { timestamp: iso(), connectorStatus: "Faulted", evseId: 1, connectorId: 1 });
    await net.waitForStatus(CP, "BROKEN");
    await charger.call("StatusNotification", { timestamp: iso(), connectorStatus: "Available", evseId: 1, connectorId: 1 });
    await net.waitForStatus(CP, "ACTIVE");
  });

  test("DataTransfer is answered UnknownVendorId", async () => {
    expect((await charger.call("DataTransfer", { vendorId: "org.example" })).status).toBe("UnknownVendorId");
  });
});
