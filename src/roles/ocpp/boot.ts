/**
 * What both OCPP versions do alike at a charger's boot and status reports: tell Central what
 * the charger is, and keep the charger's availability in line with what Central decided.
 */
import { eq } from "drizzle-orm";
import { nowIso } from "../../bus/messages.ts";
import { isCityInAlert } from "../../db/repos/weather.ts";
import { chargingPoints } from "../../db/schema/index.ts";
import type { ChargerLink } from "./link.ts";

export interface ChargerInfo {
  vendor: string | null;
  model: string | null;
  serialNumber: string | null;
  firmwareVersion: string | null;
}

/** The BootNotification answer's fields; the charger is described to Central. */
export function booted(link: ChargerLink, info: ChargerInfo): { currentTime: string; interval: number; status: "Accepted" } {
  link.publish({
    type: "cp_info",
    protocol: "ocpp",
    protocol_version: link.version,
    vendor: info.vendor,
    model: info.model,
    serial_number: info.serialNumber,
    firmware_version: info.firmwareVersion,
    keeps_charging_offline: true,
    at: nowIso(),
  });
  link.ctx.log.info("charger booted", { cp_id: link.cpId, vendor: info.vendor, model: info.model, firmware: info.firmwareVersion });
  // After the answer has gone: a central system calls a charger only once its boot is accepted.
  setTimeout(() => void syncAvailability(link, "closed"), 0);
  return { currentTime: nowIso(), interval: Math.round(link.ctx.config.OCPP_HEARTBEAT_INTERVAL), status: "Accepted" };
}

/** Whether the CP is open to new charges by Central's decisions (no operator's stop, no frost in its city). */
async function openToCharges(link: ChargerLink): Promise<boolean | undefined> {
  const [cp] = await link.ctx.db
    .select({ location: chargingPoints.location, operatorStopped: chargingPoints.operatorStopped })
    .from(chargingPoints)
    .where(eq(chargingPoints.cpId, link.cpId));
  if (!cp) return undefined;
  return !(cp.operatorStopped || (await isCityInAlert(link.ctx.db, cp.location)));
}

/**
 * Tells the charger what Central decided, when it may not know: at boot when the CP is closed
 * (its own memory may say open), and when it reports itself unavailable though Central has it
 * open (it kept an older decision).
 */
export async function syncAvailability(link: ChargerLink, when: "closed" | "open"): Promise<void> {
  try {
    const open = await openToCharges(link);
    if (open === undefined || open !== (when === "open")) return;
    await link.setAvailability(open, open ? "available" : "closed by Central (operator stop or frost)");
  } catch (err) {
    link.ctx.log.warn("could not read the CP's availability", { cp_id: link.cpId, err });
  }
}
