/**
 * OCPP 1.6J: the charger's calls (already checked against the 1.6 JSON schemas by ocpp-rpc's
 * strict mode) mapped onto evnet, and the calls the gateway makes. Transaction ids are integers
 * the gateway assigns; a StartTransaction sent again (same connector, id tag, time and meter
 * start) gets the same id.
 */
import type { EndReason } from "../../domain/billing.ts";
import { authorizeDriverToken } from "../../identity/driver-authorization.ts";
import { dataTransfer } from "./audit-data-transfer.ts";
import { booted, syncAvailability } from "./boot.ts";
import { meterValues, startTransaction, stopTransaction, unknownTransaction } from "./charging.ts";
import type { ChargerLink } from "./link.ts";
import { type MeterValue, readMeterValues } from "./meter.ts";

type IdTagStatus = "Accepted" | "Blocked" | "Expired" | "Invalid" | "ConcurrentTx";

const STOP_REASONS: Record<string, EndReason> = {
  EVDisconnected: "unplugged",
  EmergencyStop: "fault",
  PowerLoss: "disconnected",
  Reboot: "disconnected",
  HardReset: "disconnected",
  SoftReset: "disconnected",
  DeAuthorized: "engine_refused",
};

export function speak16(link: ChargerLink): void {
  const on = link.on.bind(link);
  const tagStatus = async (idTag: string): Promise<IdTagStatus> => (await authorizeDriverToken(link.ctx.db, idTag, link.cpId)).status;

  link.dialect = {
    maxTokenLength: 20,
    async remoteStart(idTag) {
      const answer = await link.call("RemoteStartTransaction", { connectorId: 1, idTag });
      return answer?.status === "Accepted";
    },
    async remoteStop(ocppTxId) {
      const transactionId = Number(ocppTxId);
      if (!Number.isSafeInteger(transactionId)) return false;
      return (await link.call("RemoteStopTransaction", { transactionId }))?.status === "Accepted";
    },
    async changeAvailability(available) {
      return (await link.call("ChangeAvailability", { connectorId: 0, type: available ? "Operative" : "Inoperative" }))?.status;
    },
  };

  on(
    "BootNotification",
    (p: { chargePointVendor: string; chargePointModel: string; chargePointSerialNumber?: string; chargeBoxSerialNumber?: string; firmwareVersion?: string }) =>
      booted(link, {
        vendor: p.chargePointVendor,
        model: p.chargePointModel,
        serialNumber: p.chargePointSerialNumber ?? p.chargeBoxSerialNumber ?? null,
        firmwareVersion: p.firmwareVersion ?? null,
      }),
  );

  on("Heartbeat", () => ({ currentTime: new Date().toISOString() }));

  on("StatusNotification", (p: { connectorId: number; errorCode: string; status: string; info?: string }) => {
    link.connectorStatus(p.connectorId, p.status === "Faulted", `connector ${p.connectorId}: ${p.status} (${p.errorCode}${p.info ? `, ${p.info}` : ""})`);
    if (p.status === "Unavailable") void syncAvailability(link, "open");
    return {};
  });

  on("Authorize", async (p: { idTag: string }) => ({ idTagInfo: { status: await tagStatus(p.idTag) } }));

  on("StartTransaction", async (p: { connectorId: number; idTag: string; meterStart: number; timestamp: string }) => {
    const status = await tagStatus(p.idTag);
    const row = await startTransaction(
      link,
      {
        idToken: p.idTag,
        connectorId: p.connectorId,
        startKey: `${p.connectorId}|${p.idTag}|${p.timestamp}|${p.meterStart}`,
        meterStartWh: p.meterStart,
        startedAt: new Date(p.timestamp),
      },
      status === "Accepted",
    );
    return { transactionId: row.id, idTagInfo: { status } };
  });

  on("MeterValues", async (p: { connectorId: number; transactionId?: number; meterValue: MeterValue[] }) => {
    const row = p.transactionId === undefined ? undefined : await link.transaction(String(p.transactionId));
    if (row) await meterValues(link, row, readMeterValues(p.meterValue));
    return {};
  });

  on(
    "StopTransaction",
    async (p: { meterStop: number; timestamp: string; transactionId: number; reason?: string; idTag?: string; transactionData?: MeterValue[] }) => {
      const stoppedAt = new Date(p.timestamp);
      let row = await link.transaction(String(p.transactionId));
      if (!row) {
        const readings = readMeterValues(p.transactionData);
        row = await unknownTransaction(link, {
          ocppTxId: `stop-only:${p.transactionId}:${p.timestamp}:${p.meterStop}`,
          idToken: p.idTag ?? null,
          connectorId: 1,
          begin: readings.find((r) => r.context === "Transaction.Begin"),
          firstSeen: undefined,
          at: stoppedAt,
        });
      }
      if (row)
        await stopTransaction(link, row, {
          meterStopWh: p.meterStop,
          stoppedAt,
          reason: STOP_REASONS[p.reason ?? "Local"] ?? "driver_stop",
          chargerReason: p.reason ?? "Local",
        });
      return p.idTag ? { idTagInfo: { status: (await tagStatus(p.idTag)) === "Invalid" ? "Invalid" : "Accepted" } } : {};
    },
  );

  on("DataTransfer", (p: { vendorId: string; messageId?: string; data?: string }) => dataTransfer(link, p));
  link.acknowledge([
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "SecurityEventNotification",
    "SignedFirmwareStatusNotification",
    "LogStatusNotification",
  ]);
}
