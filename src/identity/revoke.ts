/**
 * Key revocation by an operator (admin API or Central's admin menu): the CP's active key is
 * marked revoked, and Central is told so it refuses the key at once, sends the CP an
 * authenticated notice under the old key and stops the CP ("key revoked") until its monitor
 * authenticates again.
 */
import type { Auditor } from "../audit/audit.ts";
import type { ActorType } from "../audit/vocabulary.ts";
import { type ControlSender, sendControl } from "../bus/control-messages.ts";
import type { Db } from "../db/client.ts";
import { revokeActiveKeys } from "../db/repos/cp-keys.ts";
import { findRegisteredChargingPoint } from "../db/repos/cp-registrations.ts";
import { AppError } from "../lib/errors.ts";
import { cpResource } from "./audit-resource.ts";

export const KEY_REVOKED_REASON = "key revoked";

export interface RevocationDeps extends ControlSender {
  db: Db;
  auditor: Auditor;
}

export interface RevocationRequest {
  cpId: string;
  actorType: Extract<ActorType, "operator" | "system" | "service">;
  actorId?: string | null;
  /** Why, in the operator's words; defaults to "revoked by operator". */
  reason?: string;
  sourceAddress?: string;
}

export interface Revocation {
  cpId: string;
  revokedKeyIds: string[];
}

export async function revokeCpKey(deps: RevocationDeps, request: RevocationRequest): Promise<Revocation> {
  const { cpId } = request;
  const reason = request.reason?.trim() || `revoked by ${request.actorType}`;
  const audit = {
    eventType: "revocation" as const,
    actorType: request.actorType,
    actorId: request.actorId ?? null,
    resource: cpResource(cpId),
    action: "revoke_key",
    sourceAddress: request.sourceAddress,
  };
  if (!(await findRegisteredChargingPoint(deps.db, cpId))) {
    await deps.auditor.record({ ...audit, outcome: "failure", reason: "not registered" });
    throw new AppError("not_found", `charging point ${cpId} is not registered`);
  }
  const revokedKeyIds = await revokeActiveKeys(deps.db, cpId, reason);
  if (revokedKeyIds.length === 0) {
    await deps.auditor.record({ ...audit, outcome: "failure", reason: "no active key" });
    throw new AppError("conflict", `charging point ${cpId} has no active key (it is not authenticated)`);
  }
  await deps.auditor.record({ ...audit, outcome: "success", reason, details: { key_ids: revokedKeyIds } });
  try {
    await sendControl(deps, [
      {
        type: "key_revoked",
        cp_id: cpId,
        key_ids: revokedKeyIds,
        reason,
        actor_type: request.actorType,
        actor_id: request.actorId ?? null,
        at: new Date().toISOString(),
      },
    ]);
  } catch (err) {
    await deps.auditor.record({
      ...audit,
      eventType: "error",
      outcome: "error",
      reason: `could not tell Central: ${err instanceof Error ? err.message : String(err)}`,
    });
    throw new AppError("unavailable", `the key of ${cpId} is revoked, but Central could not be told; it will refuse the key within seconds`);
  }
  return { cpId, revokedKeyIds };
}
