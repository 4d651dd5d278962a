/** DataTransfer from a charger: evnet knows no vendor extensions, so it is answered UnknownVendorId and audited. */
import { cpResource } from "../../identity/audit-resource.ts";
import type { ChargerLink } from "./link.ts";

export async function dataTransfer(link: ChargerLink, p: { vendorId: string; messageId?: string; data?: unknown }): Promise<{ status: "UnknownVendorId" }> {
  await link.ctx.auditor.record({
    eventType: "request",
    actorType: "cp",
    actorId: link.cpId,
    resource: cpResource(link.cpId),
    action: "data_transfer",
    outcome: "failure",
    reason: "unknown vendor id: evnet implements no vendor-specific data transfer",
    details: {
      vendor_id: p.vendorId.slice(0, 255),
      message_id: p.messageId?.slice(0, 50) ?? null,
      data_length: typeof p.data === "string" ? p.data.length : null,
    },
  });
  return { status: "UnknownVendorId" };
}
