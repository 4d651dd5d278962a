/**
 * The Registry's side of `charging_points` and `cp_credentials`: registering (or updating) a CP
 * with its one current credential, and deregistering it. Every earlier credential of the CP is
 * revoked in the same transaction that makes a new one current, so at most one works.
 */
import { and, eq, isNull, ne } from "drizzle-orm";
import type { Db } from "../client.ts";
import { type CpRow, type CredentialRow, chargingPoints, cpCredentials, cpKeys } from "../schema/index.ts";

export interface Registration {
  cpId: string;
  location: string;
  /** Kept as it was when updating and not given; the default when creating. */
  pricePerKwh?: number;
}

export interface NewCredential {
  jti: string;
  issuedAt: Date;
  expiresAt: Date;
}

export interface RegistrationResult {
  created: boolean;
  /** The CP had been deregistered and is registered again. */
  revived: boolean;
  cp: CpRow;
  supersededCredentials: string[];
}

export const SUPERSEDED_BY_REGISTRATION = "superseded by a new registration";
export const DEREGISTERED = "deregistered";

export async function registerChargingPoint(
  db: Db,
  registration: Registration,
  credential: NewCredential,
  defaultPricePerKwh: number,
): Promise<RegistrationResult> {
  return db.transaction(async (tx) => {
    const now = new Date();
    const inserted = await tx
      .insert(chargingPoints)
      .values({
        cpId: registration.cpId,
        location: registration.location,
        pricePerKwh: registration.pricePerKwh ?? defaultPricePerKwh,
        statusReason: "registered, not yet authenticated",
      })
      .onConflictDoNothing({ target: chargingPoints.cpId })
      .returning();
    const created = inserted.length > 0;
    const [before] = created ? inserted : await tx.select().from(chargingPoints).where(eq(chargingPoints.cpId, registration.cpId)).for("update");
    const revived = !created && before!.deregisteredAt !== null;
    await tx.insert(cpCredentials).values({ jti: credential.jti, cpId: registration.cpId, issuedAt: credential.issuedAt, expiresAt: credential.expiresAt });
    const superseded = await tx
      .update(cpCredentials)
      .set({ revokedAt: now, revokedReason: SUPERSEDED_BY_REGISTRATION })
      .where(and(eq(cpCredentials.cpId, registration.cpId), isNull(cpCredentials.revokedAt), ne(cpCredentials.jti, credential.jti)))
      .returning({ jti: cpCredentials.jti });
    const [cp] = await tx
      .update(chargingPoints)
      .set({
        location: registration.location,
        ...(registration.pricePerKwh !== undefined ? { pricePerKwh: registration.pricePerKwh } : {}),
        currentCredentialId: credential.jti,
        deregisteredAt: null,
        updatedAt: now,
        // A CP registered again after deregistration starts over: not connected until it authenticates.
        ...(revived ? { status: "DISCONNECTED", statusReason: "registered again, not yet authenticated", statusChangedAt: now } : {}),
      })
      .where(eq(chargingPoints.cpId, registration.cpId))
      .returning();
    return { created, revived, cp: cp!, supersededCredentials: superseded.map((s) => s.jti) };
  });
}

/** A registered CP (not deregistered), or undefined. */
export async function findRegisteredChargingPoint(db: Db, cpId: string): Promise<CpRow | undefined> {
  const [cp] = await db.select().from(chargingPoints).where(eq(chargingPoints.cpId, cpId));
  return cp && cp.deregisteredAt === null ? cp : undefined;
}

export async function findChargingPoint(db: Db, cpId: string): Promise<CpRow | undefined> {
  const [cp] = await db.select().from(chargingPoints).where(eq(chargingPoints.cpId, cpId));
  return cp;
}

export async function findCredential(db: Db, jti: string): Promise<CredentialRow | undefined> {
  const [row] = await db.select().from(cpCredentials).where(eq(cpCredentials.jti, jti));
  return row;
}

export interface Deregistration {
  cp: CpRow;
  revokedCredentials: string[];
  revokedKeys: string[];
}

/**
 * Deregisters a CP: its history stays, its credential and channel keys stop working, and it is
 * no longer connected. Undefined when no registered CP has that id.
 */
export async function deregisterChargingPoint(db: Db, cpId: string): Promise<Deregistration | undefined> {
  return db.transaction(async (tx) => {
    const [current] = await tx.select().from(chargingPoints).where(eq(chargingPoints.cpId, cpId)).for("update");
    if (!current || current.deregisteredAt !== null) return undefined;
    const now = new Date();
    const credentials = await tx
      .update(cpCredentials)
      .set({ revokedAt: now, revokedReason: DEREGISTERED })
      .where(and(eq(cpCredentials.cpId, cpId), isNull(cpCredentials.revokedAt)))
      .returning({ jti: cpCredentials.jti });
    const keys = await tx
      .update(cpKeys)
      .set({ revokedAt: now, revokedReason: DEREGISTERED })
      .where(and(eq(cpKeys.cpId, cpId), isNull(cpKeys.revokedAt)))
      .returning({ keyId: cpKeys.keyId });
    const [cp] = await tx
      .update(chargingPoints)
      .set({ deregisteredAt: now, currentCredentialId: null, status: "DISCONNECTED", statusReason: DEREGISTERED, statusChangedAt: now, updatedAt: now })
      .where(eq(chargingPoints.cpId, cpId))
      .returning();
    return { cp: cp!, revokedCredentials: credentials.map((c) => c.jti), revokedKeys: keys.map((k) => k.keyId) };
  });
}
