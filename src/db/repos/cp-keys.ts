/**
 * `cp_keys`: the channel keys Central issues to authenticated CPs, stored only wrapped under the
 * master key. A CP has at most one active key: issuing a new one revokes the others in the same
 * transaction.
 */
import { and, desc, eq, gte, inArray, isNull, sql } from "drizzle-orm";
import type { Db } from "../client.ts";
import { type CpKeyRow, chargingPoints, cpCredentials, cpKeys } from "../schema/index.ts";
import { statement } from "../statements.ts";

export const SUPERSEDED_BY_AUTHENTICATION = "superseded by a new authentication";

export interface StoredKey {
  keyId: string;
  cpId: string;
  wrappedKey: string;
  /** Credential the CP authenticated with, marked used (none for a charger the OCPP gateway vouches for). */
  credentialJti?: string;
}

/** Stores a new active key for a CP and revokes its earlier ones; returns the revoked key ids. */
export async function storeNewKey(db: Db, key: StoredKey): Promise<{ createdAt: Date; revokedKeyIds: string[] }> {
  return (await storeNewKeys(db, [key]))[0]!;
}

/**
 * Stores a new active key for each of several CPs (one key per CP) in one transaction, revoking
 * their earlier ones; the answers in the keys' order.
 */
export async function storeNewKeys(db: Db, keys: StoredKey[]): Promise<{ createdAt: Date; revokedKeyIds: string[] }[]> {
  if (keys.length === 0) return [];
  const cpIds = keys.map((k) => k.cpId);
  if (new Set(cpIds).size !== cpIds.length) throw new Error("storeNewKeys: one key per CP");
  const anyOf = (column: typeof cpKeys.cpId | typeof chargingPoints.cpId | typeof cpCredentials.jti, ids: string[]) =>
    sql`${column} = any(${sql.param(ids)}::text[])`;
  return db.transaction(async (tx) => {
    // Lock the CPs (in one order, so two batches cannot deadlock) so that two authentications
    // of one CP at once cannot both leave an active key.
    await tx.select({ cpId: chargingPoints.cpId }).from(chargingPoints).where(anyOf(chargingPoints.cpId, cpIds)).orderBy(chargingPoints.cpId).for("update");
    const now = new Date();
    const revoked = await tx
      .update(cpKeys)
      .set({ revokedAt: now, revokedReason: SUPERSEDED_BY_AUTHENTICATION })
      .where(and(anyOf(cpKeys.cpId, cpIds), isNull(cpKeys.revokedAt)))
      .returning({ keyId: cpKeys.keyId, cpId: cpKeys.cpId });
    const revokedOf = Map.groupBy(revoked, (r) => r.cpId);
    await tx.insert(cpKeys).values(keys.map((k) => ({ keyId: k.keyId, cpId: k.cpId, wrappedKey: k.wrappedKey, createdAt: now })));
    const used = keys.flatMap((k) => (k.credentialJti ? [k.credentialJti] : []));
    if (used.length) await tx.update(cpCredentials).set({ lastUsedAt: now }).where(anyOf(cpCredentials.jti, used));
    await tx.update(chargingPoints).set({ lastConnectionTime: now }).where(anyOf(chargingPoints.cpId, cpIds));
    return keys.map((k) => ({ createdAt: now, revokedKeyIds: (revokedOf.get(k.cpId) ?? []).map((r) => r.keyId) }));
  });
}

export async function findKey(db: Db, keyId: string): Promise<CpKeyRow | undefined> {
  const [row] = await db.select().from(cpKeys).where(eq(cpKeys.keyId, keyId));
  return row;
}

// Central reads keys for the batches it opens and the messages it seals: built once (src/db/statements.ts).
const keysById = statement("cp_keys_by_id", (db) =>
  db
    .select()
    .from(cpKeys)
    .where(sql`${cpKeys.keyId} = any(${sql.placeholder("keyIds")}::text[])`),
);
const activeKeysOf = statement("cp_active_keys", (db) =>
  db
    .selectDistinctOn([cpKeys.cpId])
    .from(cpKeys)
    .where(and(sql`${cpKeys.cpId} = any(${sql.placeholder("cpIds")}::text[])`, isNull(cpKeys.revokedAt)))
    .orderBy(cpKeys.cpId, desc(cpKeys.createdAt)),
);

/** Several keys by id in one query (those that exist). One statement text whatever the number of ids. */
export async function findKeys(db: Db, keyIds: string[]): Promise<CpKeyRow[]> {
  if (keyIds.length === 0) return [];
  return keysById(db, { keyIds });
}

/** The keys revoked at or after `since` (one short query however many keys there are). */
export async function findKeysRevokedSince(db: Db, since: Date): Promise<CpKeyRow[]> {
  return db.select().from(cpKeys).where(gte(cpKeys.revokedAt, since));
}

/** The CP's active (unrevoked) key, or undefined. */
export async function findActiveKey(db: Db, cpId: string): Promise<CpKeyRow | undefined> {
  const [row] = await db
    .select()
    .from(cpKeys)
    .where(and(eq(cpKeys.cpId, cpId), isNull(cpKeys.revokedAt)))
    .orderBy(desc(cpKeys.createdAt))
    .limit(1);
  return row;
}

/** The active (unrevoked) key of each of these CPs that has one: the newest, in one query. */
export async function findActiveKeys(db: Db, cpIds: string[]): Promise<CpKeyRow[]> {
  if (cpIds.length === 0) return [];
  return activeKeysOf(db, { cpIds });
}

/** Revokes the CP's active keys; returns the ids it revoked (empty when there were none). */
export async function revokeActiveKeys(db: Db, cpId: string, reason: string): Promise<string[]> {
  const rows = await db
    .update(cpKeys)
    .set({ revokedAt: new Date(), revokedReason: reason })
    .where(and(eq(cpKeys.cpId, cpId), isNull(cpKeys.revokedAt)))
    .returning({ keyId: cpKeys.keyId });
  return rows.map((r) => r.keyId);
}

/** The most recently created of the given keys (the one the CP most likely still holds). */
export async function newestOf(db: Db, keyIds: string[]): Promise<CpKeyRow | undefined> {
  if (keyIds.length === 0) return undefined;
  const [row] = await db.select().from(cpKeys).where(inArray(cpKeys.keyId, keyIds)).orderBy(desc(cpKeys.createdAt)).limit(1);
  return row;
}
