/**
 * Where Central finds the channel keys of each kind of key holder: CPs' in `cp_keys`, drivers'
 * in `driver_keys`, read the same way (several by id in one query, or a holder's active one).
 */
import type { Subject, SubjectType } from "../../crypto/envelope.ts";
import type { Db } from "../../db/client.ts";
import { findActiveKey, findKeys } from "../../db/repos/cp-keys.ts";
import { findActiveDriverKey, findDriverKeys } from "../../db/repos/driver-accounts.ts";

export interface StoredKey {
  keyId: string;
  subject: Subject;
  wrappedKey: string;
  revokedAt: Date | null;
  revokedReason: string | null;
}

export interface KeyStore {
  find(db: Db, keyIds: string[]): Promise<StoredKey[]>;
  active(db: Db, id: string): Promise<StoredKey | undefined>;
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
    active: async (db, id) => {
      const row = await findActiveKey(db, id);
      return row && cpKey(row);
    },
  },
  driver: {
    find: async (db, keyIds) => (await findDriverKeys(db, keyIds)).map(driverKey),
    active: async (db, id) => {
      const row = await findActiveDriverKey(db, id);
      return row && driverKey(row);
    },
  },
};
