/**
 * CP authentication: a valid credential of a registered CP, still its current one, buys a fresh
 * random 256-bit channel key. The key is stored wrapped under the master key, returned once,
 * and Central is told (control message) so it loads the key and makes the CP ACTIVE.
 * Every refusal is a 401 with its reason, audited.
 */
import type { Auditor } from "../audit/audit.ts";
import { type ControlSender, sendControl } from "../bus/control-messages.ts";
import { CredentialError, type CredentialVerifier, claimedSubject, type VerifiedCredential } from "../crypto/credentials.ts";
import { newChannelKey, wrapKey } from "../crypto/keys.ts";
import type { Db } from "../db/client.ts";
import { storeNewKeys } from "../db/repos/cp-keys.ts";
import { findChargingPoint, findCredential, SUPERSEDED_BY_REGISTRATION } from "../db/repos/cp-registrations.ts";
import { AppError, KnownError } from "../lib/errors.ts";
import { cpResource } from "./audit-resource.ts";

export interface AuthenticationDeps extends ControlSender {
  db: Db;
  auditor: Auditor;
  verifier: CredentialVerifier;
  masterKey: Uint8Array;
}

export interface AuthenticationRequest {
  credential: string;
  /** The CP the caller says it is; when given, the credential must be that CP's. */
  cpId?: string;
  sourceAddress?: string;
}

export interface IssuedKey {
  cpId: string;
  keyId: string;
  key: Uint8Array;
  issuedAt: Date;
}

export type AuthenticationFailure = CredentialError["code"] | "not_registered" | "deregistered" | "unknown_credential" | "superseded" | "revoked";

class Refusal extends KnownError {
  constructor(
    readonly reason: AuthenticationFailure,
    message: string,
  ) {
    super(message);
  }
}

export async function authenticateCp(deps: AuthenticationDeps, request: AuthenticationRequest): Promise<IssuedKey> {
  // A key Central cannot be told about would never make the CP ACTIVE: refuse before issuing one.
  if (!deps.controlSigner) throw new AppError("unavailable", "CP authentication is not configured here (EVNET_CONTROL_SIGNING_KEY is missing)");
  const claimedCp = request.cpId ?? claimedSubject(request.credential);
  let cpId: string;
  let jti: string;
  try {
    ({ cpId, jti } = await checkCredential(deps, request));
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    await deps.auditor.record({
      eventType: "authentication",
      actorType: "cp",
      actorId: claimedCp ?? null,
      resource: claimedCp ? cpResource(claimedCp) : null,
      action: "authenticate",
      outcome: "failure",
      reason: `${err.reason}: ${err.message}`,
      sourceAddress: request.sourceAddress,
    });
    throw new AppError("unauthorized", err.message, { reason: err.reason });
  }
  return issueChannelKey(deps, { cpId, credentialJti: jti, sourceAddress: request.sourceAddress, details: { credential_id: jti } });
}

export interface KeyIssue {
  cpId: string;
  /** The credential it proved itself with, when it has one. */
  credentialJti?: string;
  sourceAddress?: string;
  /** For the authentication's audit entry: how the CP proved who it is. */
  details: Record<string, unknown>;
}

/**
 * Gives an authenticated CP a fresh channel key: stored wrapped (its earlier keys revoked),
 * audited, and announced to Central, which makes the CP ACTIVE.
 */
export async function issueChannelKey(deps: Omit<AuthenticationDeps, "verifier">, issue: KeyIssue): Promise<IssuedKey> {
  return (await issueChannelKeys(deps, [issue]))[0]!;
}

/**
 * Fresh channel keys for several authenticated CPs at once (one each): one transaction, one
 * audit insert and one message to Central for all of them; the keys in the issues' order.
 */
export async function issueChannelKeys(deps: Omit<AuthenticationDeps, "verifier">, issues: KeyIssue[]): Promise<IssuedKey[]> {
  if (issues.length === 0) return [];
  const fresh = issues.map((issue) => ({ issue, ...newChannelKey() }));
  const stored = await storeNewKeys(
    deps.db,
    fresh.map((f) => ({
      keyId: f.keyId,
      cpId: f.issue.cpId,
      wrappedKey: wrapKey(deps.masterKey, { type: "cp", id: f.issue.cpId }, f.keyId, f.key),
      credentialJti: f.issue.credentialJti,
    })),
  );
  await deps.auditor.recordMany(
    fresh.flatMap((f, i) => {
      const { cpId, sourceAddress, details } = f.issue;
      const audit = { actorType: "cp" as const, actorId: cpId, resource: cpResource(cpId), outcome: "success" as const, sourceAddress };
      return [
        { ...audit, eventType: "authentication" as const, action: "authenticate", details },
        { ...audit, eventType: "key" as const, action: "issue_key", details: { key_id: f.keyId, superseded_key_ids: stored[i]!.revokedKeyIds } },
      ];
    }),
  );
  const issued = fresh.map((f, i) => ({ cpId: f.issue.cpId, keyId: f.keyId, key: f.key, issuedAt: stored[i]!.createdAt }));
  await tellCentral(
    deps,
    issued.map((k, i) => ({ ...k, sourceAddress: issues[i]!.sourceAddress })),
  );
  return issued;
}

async function checkCredential(deps: AuthenticationDeps, request: AuthenticationRequest): Promise<{ cpId: string; jti: string }> {
  let verified: VerifiedCredential;
  try {
    verified = await deps.verifier.verify(request.credential, request.cpId);
  } catch (err) {
    if (err instanceof CredentialError) throw new Refusal(err.code, err.message);
    throw err;
  }
  const { cpId, jti } = verified;
  const cp = await findChargingPoint(deps.db, cpId);
  if (!cp) throw new Refusal("not_registered", `charging point ${cpId} is not registered`);
  if (cp.deregisteredAt) throw new Refusal("deregistered", `charging point ${cpId} has been deregistered`);
  const credential = await findCredential(deps.db, jti);
  if (!credential || credential.cpId !== cpId) throw new Refusal("unknown_credential", "the registry has no record of this credential");
  if (credential.revokedAt && credential.revokedReason !== SUPERSEDED_BY_REGISTRATION)
    throw new Refusal("revoked", `the credential was revoked (${credential.revokedReason ?? "no reason given"})`);
  if (credential.revokedAt || cp.currentCredentialId !== jti)
    throw new Refusal("superseded", "the credential was replaced by a newer registration; use the newest one");
  return { cpId, jti };
}

async function tellCentral(deps: Omit<AuthenticationDeps, "verifier">, keys: (IssuedKey & { sourceAddress?: string })[]): Promise<void> {
  try {
    await sendControl(
      deps,
      keys.map((k) => ({ type: "cp_authenticated", cp_id: k.cpId, key_id: k.keyId, at: k.issuedAt.toISOString() })),
    );
  } catch (err) {
    await deps.auditor.recordMany(
      keys.map((k) => ({
        eventType: "error",
        actorType: "system",
        resource: cpResource(k.cpId),
        action: "notify_central",
        outcome: "error",
        reason: `could not publish cp_authenticated: ${err instanceof Error ? err.message : String(err)}`,
        sourceAddress: k.sourceAddress,
      })),
    );
    throw new AppError("unavailable", "the key was issued but Central could not be told; authenticate again");
  }
}
