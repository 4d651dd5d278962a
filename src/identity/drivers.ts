/**
 * Drivers as accounts. A driver registers (with the operator's enrollment token, or an operator
 * registers it) and gets a credential: a random secret shown once and kept only as its SHA-256
 * (it is 256 random bits: no slow hash needed). Like a CP's credential it buys channel keys: a
 * fresh random 256-bit key per authentication, stored wrapped under the master key, returned
 * once. The driver's id is the id tag a charger's RFID reader presents (OCPP 1.6 CiString20),
 * hence at most 20 characters.
 */
import { createHash } from "node:crypto";
import type { Auditor } from "../audit/audit.ts";
import { constantTimeEqual, newChannelKey, randomToken, wrapKey } from "../crypto/keys.ts";
import type { Db } from "../db/client.ts";
import { findDriverAccount, storeCredential, storeDriverKey } from "../db/repos/driver-accounts.ts";
import { AppError } from "../lib/errors.ts";

export const DRIVER_ID_MAX = 20;
export const DRIVER_ID_PATTERN = /^[A-Za-z0-9_.-]{1,20}$/;
export const DRIVER_ID_RULE = "1-20 letters, digits, '_', '.' or '-' (it is also the driver's RFID id tag)";

export const driverResource = (driverId: string) => `driver/${driverId}`;

export interface DriverDeps {
  db: Db;
  auditor: Auditor;
}

export interface Registered {
  driverId: string;
  /** Shown once: the driver's app keeps it (owner-only) to authenticate. */
  credential: string;
  created: boolean;
}

const hashOf = (credential: string) => createHash("sha256").update(credential).digest("hex");

/**
 * Registers a driver. With the enrollment token (`by: "enrollment"`) only a new driver: an id
 * already registered is refused (409), so nobody takes over another driver's account. An
 * operator may also give an existing driver a new credential (the old one and its keys stop
 * working), for a driver who lost theirs.
 */
export async function registerDriver(
  deps: DriverDeps,
  driverId: string,
  by: { role: "enrollment" | "operator"; actorId?: string; sourceAddress?: string },
): Promise<Registered> {
  const audit = {
    eventType: "registration" as const,
    actorType: by.role === "operator" ? ("operator" as const) : ("driver" as const),
    actorId: by.role === "operator" ? (by.actorId ?? "operator") : driverId,
    resource: driverResource(driverId),
    action: "register_driver",
    sourceAddress: by.sourceAddress,
  };
  const credential = `dc_${randomToken(32)}`;
  const stored = await storeCredential(deps.db, driverId, hashOf(credential), by.role === "operator");
  if (!stored) {
    await deps.auditor.record({ ...audit, outcome: "failure", reason: "already registered" });
    throw new AppError("conflict", `driver ${driverId} is registered already; an operator can give it a new credential`);
  }
  await deps.auditor.record({
    ...audit,
    outcome: "success",
    reason: stored.created ? "registered" : "new credential",
    details: { revoked_key_ids: stored.revokedKeyIds },
  });
  return { driverId, credential, created: stored.created };
}

export interface DriverKey {
  driverId: string;
  keyId: string;
  key: Uint8Array;
  issuedAt: Date;
}

/** Trades a driver's current credential for a fresh channel key; refused with 401 (audited) otherwise. */
export async function authenticateDriver(
  deps: DriverDeps & { masterKey: Uint8Array },
  request: { driverId: string; credential: string; sourceAddress?: string },
): Promise<DriverKey> {
  const { driverId } = request;
  const audit = { actorType: "driver" as const, actorId: driverId, resource: driverResource(driverId), sourceAddress: request.sourceAddress };
  const account = await findDriverAccount(deps.db, driverId);
  // The same answer for an unknown driver and a wrong credential: which drivers exist is not told.
  if (!account?.credentialHash || !constantTimeEqual(account.credentialHash, hashOf(request.credential))) {
    await deps.auditor.record({
      ...audit,
      eventType: "authentication",
      action: "authenticate_driver",
      outcome: "failure",
      reason: account?.credentialHash ? "wrong credential" : "not registered",
    });
    throw new AppError("unauthorized", "unknown driver or wrong credential");
  }
  const fresh = newChannelKey("driver");
  const stored = await storeDriverKey(deps.db, {
    keyId: fresh.keyId,
    driverId,
    wrappedKey: wrapKey(deps.masterKey, { type: "driver", id: driverId }, fresh.keyId, fresh.key),
  });
  await deps.auditor.record({ ...audit, eventType: "authentication", action: "authenticate_driver", outcome: "success" });
  await deps.auditor.record({
    ...audit,
    eventType: "key",
    action: "issue_key",
    outcome: "success",
    details: { key_id: fresh.keyId, superseded_key_ids: stored.revokedKeyIds },
  });
  return { driverId, keyId: fresh.keyId, key: fresh.key, issuedAt: stored.createdAt };
}
