/**
 * Registering a charger that speaks OCPP (through `evnet ocpp`): an operator names it, its
 * location and the security profile it must connect with, and gets its OCPP password once. The
 * password is stored only as a slow hash; registering the same charger again gives it a new
 * password (the old one stops working at its next connection). It is a CP like any other on
 * the bus; what makes it an OCPP charger is its row in `ocpp_chargers`.
 */
import { eq, sql } from "drizzle-orm";
import type { Auditor } from "../audit/audit.ts";
import { hashPassword, newOcppPassword } from "../crypto/passwords.ts";
import type { Db } from "../db/client.ts";
import { chargingPoints, ocppChargers } from "../db/schema/index.ts";
import { AppError } from "../lib/errors.ts";
import { cpResource } from "./audit-resource.ts";

export const SECURITY_PROFILES = [1, 2, 3] as const;
/** The price a charger registered without one gets (the Registry's REGISTRY_DEFAULT_PRICE_PER_KWH default). */
export const DEFAULT_PRICE_PER_KWH = 0.3;
export type SecurityProfile = (typeof SECURITY_PROFILES)[number];

export interface OcppRegistration {
  cpId: string;
  location: string;
  pricePerKwh?: number;
  securityProfile: SecurityProfile;
}

export interface RegisteredOcppCharger {
  cpId: string;
  location: string;
  pricePerKwh: number;
  securityProfile: SecurityProfile;
  /** Shown once: give it to the charger (basic auth password); evnet keeps only its hash. */
  password: string;
  created: boolean;
}

export interface OcppRegistrationDeps {
  db: Db;
  auditor: Auditor;
  defaultPricePerKwh: number;
}

export async function registerOcppCharger(
  deps: OcppRegistrationDeps,
  r: OcppRegistration,
  by: { actorId?: string | null; sourceAddress?: string },
): Promise<RegisteredOcppCharger> {
  const password = newOcppPassword();
  const passwordHash = await hashPassword(password);
  const audit = { eventType: "registration" as const, actorType: "operator" as const, actorId: by.actorId ?? null, resource: cpResource(r.cpId) };
  const result = await deps.db.transaction(async (tx) => {
    const [before] = await tx.select().from(chargingPoints).where(eq(chargingPoints.cpId, r.cpId)).for("update");
    const [ocppBefore] = before ? await tx.select({ cpId: ocppChargers.cpId }).from(ocppChargers).where(eq(ocppChargers.cpId, r.cpId)) : [];
    if (before && !ocppBefore && before.deregisteredAt === null)
      throw new AppError("conflict", `${r.cpId} is registered as an evnet charging point (engine and monitor); deregister it first`);
    const price = r.pricePerKwh ?? before?.pricePerKwh ?? deps.defaultPricePerKwh;
    const revived = before !== undefined && before.deregisteredAt !== null;
    const cp = {
      location: r.location,
      pricePerKwh: price,
      protocol: "ocpp" as const,
      keepsChargingOffline: true,
      deregisteredAt: null,
      currentCredentialId: null,
    };
    if (!before) await tx.insert(chargingPoints).values({ cpId: r.cpId, ...cp, statusReason: "registered, not yet connected" });
    else
      await tx
        .update(chargingPoints)
        .set({
          ...cp,
          updatedAt: sql`now()`,
          ...(revived ? { status: "DISCONNECTED", statusReason: "registered again, not yet connected", statusChangedAt: sql`now()` } : {}),
        })
        .where(eq(chargingPoints.cpId, r.cpId));
    const row = { securityProfile: r.securityProfile, passwordHash, passwordSetAt: new Date() };
    await tx
      .insert(ocppChargers)
      .values({ cpId: r.cpId, ...row })
      .onConflictDoUpdate({ target: ocppChargers.cpId, set: row });
    return { created: !before || revived, price };
  });
  await deps.auditor.record({
    ...audit,
    action: result.created ? "register" : "update_registration",
    outcome: "success",
    sourceAddress: by.sourceAddress,
    details: { protocol: "ocpp", location: r.location, price_per_kwh: result.price, security_profile: r.securityProfile, password: "new (shown once)" },
  });
  return { cpId: r.cpId, location: r.location, pricePerKwh: result.price, securityProfile: r.securityProfile, password, created: result.created };
}

/** A registration as the Registry's API answers it (and `evnet central register-ocpp --json` prints it). */
export function registrationView(done: RegisteredOcppCharger) {
  return {
    cp_id: done.cpId,
    location: done.location,
    price_per_kwh: done.pricePerKwh,
    protocol: "ocpp" as const,
    security_profile: done.securityProfile,
    ocpp_username: done.cpId,
    ocpp_password: done.password,
    message: `OCPP charger ${done.cpId} ${done.created ? "registered" : "registered again with a new password"}: set its central system URL to <gateway>/ocpp/${done.cpId} and this password; it is not shown again`,
  };
}

/** What an operator reads after registering: the charger's settings, the password once. */
export function describeRegistration(r: RegisteredOcppCharger): string {
  return [
    `${r.cpId} ${r.created ? "registered" : "registered again"} as an OCPP charger at ${r.location} (${r.pricePerKwh} EUR/kWh), security profile ${r.securityProfile}`,
    `  central system URL:  ${r.securityProfile === 1 ? "ws" : "wss"}://<gateway host>:9000/ocpp/${r.cpId}`,
    r.securityProfile === 3
      ? `  client certificate:  evnet certs --charger ${r.cpId} (CN = ${r.cpId}); no password is used`
      : `  basic auth user:     ${r.cpId}\n  basic auth password: ${r.password}   (shown once; evnet keeps only its hash)`,
  ].join("\n");
}
