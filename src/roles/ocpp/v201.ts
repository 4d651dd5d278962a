/**
 * OCPP 2.0.1: the charger's calls (checked against the 2.0.1 JSON schemas by ocpp-rpc's strict
 * mode) mapped onto evnet, and the calls the gateway makes. A transaction is one id the charger
 * picks, reported by TransactionEvent Started / Updated / Ended (seqNo counts them); an event
 * sent again changes nothing, and one whose Started never arrived starts the record.
 */
import type { EndReason } from "../../domain/billing.ts";
import { isId } from "../../domain/ids.ts";
import { authorizeDriverToken } from "../../identity/driver-authorization.ts";
import { dataTransfer } from "./audit-data-transfer.ts";
import { booted, syncAvailability } from "./boot.ts";
import { announceStart, meterValues, startTransaction, stopTransaction, unknownTransaction } from "./charging.ts";
import type { ChargerLink } from "./link.ts";
import { type MeterValue, readMeterValues } from "./meter.ts";
import { attachToken } from "./transactions.ts";

interface IdToken {
  idToken: string;
  type: string;
}

interface TransactionEvent {
  eventType: "Started" | "Updated" | "Ended";
  timestamp: string;
  triggerReason: string;
  seqNo: number;
  offline?: boolean;
  transactionInfo: { transactionId: string; stoppedReason?: string; remoteStartId?: number };
  idToken?: IdToken;
  evse?: { id: number; connectorId?: number };
  meterValue?: MeterValue[];
}

const STOP_REASONS: Record<string, EndReason> = {
  EVDisconnected: "unplugged",
  StoppedByEV: "unplugged",
  TimeLimitReached: "max_duration",
  EmergencyStop: "fault",
  GroundFault: "fault",
  OvercurrentFault: "fault",
  PowerQuality: "fault",
  PowerLoss: "disconnected",
  Reboot: "disconnected",
  ImmediateReset: "disconnected",
  DeAuthorized: "engine_refused",
};

export function speak201(link: ChargerLink): void {
  const on = link.on.bind(link);
  const tokenStatus = async (t: IdToken) => (await authorizeDriverToken(link.ctx.db, t.idToken, link.cpId)).status;

  link.dialect = {
    maxTokenLength: 36,
    async remoteStart(idToken, remoteStartId) {
      return (await link.call("RequestStartTransaction", { idToken: { idToken, type: "Central" }, remoteStartId, evseId: 1 })).status === "Accepted";
    },
    async remoteStop(transactionId) {
      return (await link.call("RequestStopTransaction", { transactionId })).status === "Accepted";
    },
    async changeAvailability(available) {
      return (await link.call("ChangeAvailability", { operationalStatus: available ? "Operative" : "Inoperative" })).status;
    },
  };

  on("BootNotification", (p: { chargingStation: { model: string; vendorName: string; serialNumber?: string; firmwareVersion?: string } }) =>
    booted(link, {
      vendor: p.chargingStation.vendorName,
      model: p.chargingStation.model,
      serialNumber: p.chargingStation.serialNumber ?? null,
      firmwareVersion: p.chargingStation.firmwareVersion ?? null,
    }),
  );

  on("Heartbeat", () => ({ currentTime: new Date().toISOString() }));

  on("StatusNotification", (p: { connectorStatus: string; evseId: number; connectorId: number }) => {
    link.connectorStatus(p.evseId * 1000 + p.connectorId, p.connectorStatus === "Faulted", `EVSE ${p.evseId} connector ${p.connectorId}: ${p.connectorStatus}`);
    if (p.connectorStatus === "Unavailable") void syncAvailability(link, "open");
    return {};
  });

  on("Authorize", async (p: { idToken: IdToken }) => ({ idTokenInfo: { status: await tokenStatus(p.idToken) } }));

  on("TransactionEvent", async (e: TransactionEvent) => {
    const status = e.idToken ? await tokenStatus(e.idToken) : undefined;
    await transactionEvent(link, e, status);
    return status ? { idTokenInfo: { status } } : {};
  });

  // Meter values outside a transaction say nothing evnet bills.
  on("MeterValues", () => ({}));

  on("DataTransfer", (p: { vendorId: string; messageId?: string; data?: unknown }) => dataTransfer(link, p));
  link.acknowledge([
    "SecurityEventNotification",
    "NotifyEvent",
    "NotifyReport",
    "FirmwareStatusNotification",
    "LogStatusNotification",
    "NotifyMonitoringReport",
  ]);
}

async function transactionEvent(link: ChargerLink, e: TransactionEvent, status: string | undefined): Promise<void> {
  const at = new Date(e.timestamp);
  const txId = e.transactionInfo.transactionId;
  const readings = readMeterValues(e.meterValue);
  const begin = readings.find((r) => r.context === "Transaction.Begin");
  const token = e.idToken?.idToken ?? null;
  const accepted = status === undefined || status === "Accepted";
  let row = await link.transaction(txId);
  if (!row && e.eventType === "Started")
    row = await startTransaction(
      link,
      { ocppTxId: txId, idToken: token, connectorId: e.evse?.id ?? 1, meterStartWh: (begin ?? readings[0])?.energyWh ?? null, startedAt: at },
      accepted && token !== null,
    );
  else if (!row) row = await unknownTransaction(link, { ocppTxId: txId, idToken: token, connectorId: e.evse?.id ?? 1, begin, firstSeen: readings[0], at });
  else if (row.idTag === null && token && accepted && isId(token)) {
    // Plugged in first, authorised later: the session starts to count for its driver now.
    const named = await attachToken(link.ctx.db, row.id, token);
    if (named) {
      link.keepTransaction(named);
      announceStart(link, (row = named), false);
    }
  }
  if (!row) return;
  const end = readings.findLast((r) => r.context === "Transaction.End") ?? readings.at(-1);
  await meterValues(
    link,
    row,
    readings.filter((r) => r !== end || e.eventType !== "Ended"),
  );
  if (e.eventType !== "Ended") return;
  const reason = e.transactionInfo.stoppedReason ?? "Local";
  await stopTransaction(link, row, {
    meterStopWh: end?.energyWh ?? null,
    stoppedAt: at,
    reason: STOP_REASONS[reason] ?? "driver_stop",
    chargerReason: reason,
  });
}
