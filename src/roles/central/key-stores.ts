/**
 * Where Central finds the channel keys of each kind of key holder: CPs' in `cp_keys`, drivers'
 * in `driver_keys`, read the same way (several by id, or several holders' active ones, in one query).
 */
import type { Subject, SubjectType } from "../../crypto/envelope.ts";
import type { Db } from "../../db/client.ts";
import { findActiveKeys, findKeys, findKeysRevokedSince } from "../../db/repos/cp-keys.ts";
import { findActiveDriverKeys, findDriverKeys, findDriverKeysRevokedSince } from "../../db/repos/driver-accounts.ts";

export interface StoredKey {
  keyId: string;
  subject: Subject;
  wrappedKey: string;
  revokedAt: Date | null;
  revokedReason: string | null;
}

export interface KeyStore {
  find(db: Db, keyIds: string[]): Promise<StoredKey[]>;
  /** The active key of each holder named that has one. */
  active(db: Db, ids: string[]): Promise<StoredKey[]>;
  /** The keys revoked at or after `since`. */
  revokedSince(db: Db, since: Date): Promise<StoredKey[]>;
}

type KeyRow = { keyId: string; wrappedKey: string; revokedAt: Date | null; revokedReason: string | null };

const cpKey = (r: KeyRow & { cpId: string }): StoredKey => ({
  keyId: r.keyId,
  subject: { type: "cp", id: r.cpId },
  wrappedKey: r.wrappedKey,
  revokedAt: r.revokedAt,
  revokedReason: r.revokedReason,
});

const driverKey = (r: KeyRow & { driverId: string }): StoredKey => ({
  keyId: r.keyId,
  subject: { type: "driver", id: r.driverId },
  wrappedKey: r.wrappedKey,
  revokedAt: r.revokedAt,
  revokedReason: r.revokedReason,
});

export const KEY_STORES: Record<SubjectType, KeyStore> = {
  cp: {
    find: async (db, keyIds) => (await findKeys(db, keyIds)).map(cpKey),
    active: async (db, ids) => (await findActiveKeys(db, ids)).map(cpKey),
    revokedSince: async (db, since) => (await findKeysRevokedSince(db, since)).map(cpKey),
  },
  driver: {
    find: async (db, keyIds) => (await findDriverKeys(db, keyIds)).map(driverKey),
    active: async (db, ids) => (await findActiveDriverKeys(db, ids)).map(driverKey),
    revokedSince: async (db, since) => (await findDriverKeysRevokedSince(db, since)).map(driverKey),
  },
};
