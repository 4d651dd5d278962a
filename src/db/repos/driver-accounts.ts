/**
 * `drivers` as accounts and `driver_keys`: a driver's credential (only its hash is kept) and the
 * channel keys it buys. A driver has at most one active key: issuing a new one revokes the
 * others in the same transaction, and so does a new credential.
 */
import { and, desc, eq, gte, isNull, sql } from "drizzle-orm";
import type { Db } from "../client.ts";
import { type DriverKeyRow, type DriverRow, driverKeys, drivers } from "../schema/index.ts";
import { statement } from "../statements.ts";

export const SUPERSEDED_BY_CREDENTIAL = "superseded by a new credential";
export const SUPERSEDED_BY_AUTHENTICATION = "superseded by a new authentication";

export async function findDriverAccount(db: Db, driverId: string): Promise<DriverRow | undefined> {
  const [row] = await db.select().from(drivers).where(eq(drivers.driverId, driverId));
  return row;
}

export interface CredentialStored {
  /** The driver had no account before. */
  created: boolean;
  revokedKeyIds: string[];
}

/**
 * Gives a driver a new credential (its hash): a new account, or, when `replace`, a new
 * credential for an existing one (the old stops working, its keys are revoked). Undefined when
 * the driver has an account and `replace` is false.
 */
export async function storeCredential(db: Db, driverId: string, credentialHash: string, replace: boolean): Promise<CredentialStored | undefined> {
  return db.transaction(async (tx) => {
    const [existing] = await tx.select().from(drivers).where(eq(drivers.driverId, driverId)).for("update");
    if (existing?.credentialHash && !replace) return undefined;
    await tx
      .insert(drivers)
      .values({ driverId, credentialHash, registeredAt: sql`now()` })
      .onConflictDoUpdate({ target: drivers.driverId, set: { credentialHash, registeredAt: sql`now()` } });
    const revoked = await revokeKeys(tx, driverId, SUPERSEDED_BY_CREDENTIAL);
    return { created: !existing?.credentialHash, revokedKeyIds: revoked };
  });
}

async function revokeKeys(db: Db, driverId: string, reason: string): Promise<string[]> {
  const rows = await db
    .update(driverKeys)
    .set({ revokedAt: sql`now()`, revokedReason: reason })
    .where(and(eq(driverKeys.driverId, driverId), isNull(driverKeys.revokedAt)))
    .returning({ keyId: driverKeys.keyId });
  return rows.map((r) => r.keyId);
}

/** Stores a driver's new active key and revokes its earlier ones. */
export async function storeDriverKey(
  db: Db,
  key: { keyId: string; driverId: string; wrappedKey: string },
): Promise<{ createdAt: Date; revokedKeyIds: string[] }> {
  return db.transaction(async (tx) => {
    // Lock the driver so two authentications at once cannot both leave an active key.
    await tx.select({ driverId: drivers.driverId }).from(drivers).where(eq(drivers.driverId, key.driverId)).for("update");
    const revoked = await revokeKeys(tx, key.driverId, SUPERSEDED_BY_AUTHENTICATION);
    const [row] = await tx.insert(driverKeys).values(key).returning();
    await tx.update(drivers).set({ lastSeenAt: sql`now()` }).where(eq(drivers.driverId, key.driverId));
    return { createdAt: row!.createdAt, revokedKeyIds: revoked };
  });
}

// Central reads drivers' keys for the requests it opens and the updates it seals: built once (src/db/statements.ts).
const driverKeysById = statement("driver_keys_by_id", (db) =>
  db
    .select()
    .from(driverKeys)
    .where(sql`${driverKeys.keyId} = any(${sql.placeholder("keyIds")}::text[])`),
);
const activeDriverKeysOf = statement("driver_active_keys", (db) =>
  db
    .selectDistinctOn([driverKeys.driverId])
    .from(driverKeys)
    .where(and(sql`${driverKeys.driverId} = any(${sql.placeholder("driverIds")}::text[])`, isNull(driverKeys.revokedAt)))
    .orderBy(driverKeys.driverId, desc(driverKeys.createdAt)),
);

/** Several keys by id in one query (those that exist). */
export async function findDriverKeys(db: Db, keyIds: string[]): Promise<DriverKeyRow[]> {
  if (keyIds.length === 0) return [];
  return driverKeysById(db, { keyIds });
}

/** The drivers' keys revoked at or after `since`. */
export async function findDriverKeysRevokedSince(db: Db, since: Date): Promise<DriverKeyRow[]> {
  return db.select().from(driverKeys).where(gte(driverKeys.revokedAt, since));
}

/** The active (unrevoked) key of each of these drivers that has one: the newest, in one query. */
export async function findActiveDriverKeys(db: Db, driverIds: string[]): Promise<DriverKeyRow[]> {
  if (driverIds.length === 0) return [];
  return activeDriverKeysOf(db, { driverIds });
}
