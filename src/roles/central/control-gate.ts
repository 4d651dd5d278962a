/**
 * The gate control messages pass before Central acts on them: signed with a key Central trusts,
 * unaltered, for the bus key they travel under (src/crypto/signed-messages.ts), not older than
 * the freshness window (nor from the future), and not seen before. A message that fails is
 * refused and audited as a security event; a genuine message whose body is not a control
 * message is left to be set aside as invalid.
 */
import { sql } from "drizzle-orm";
import type { Auditor } from "../../audit/audit.ts";
import type { BusMessage } from "../../bus/bus.ts";
import { type ControlMessage, parseControlMessage } from "../../bus/control-messages.ts";
import { type MessageVerifier, SignatureError, type SignedHeader, type Verified } from "../../crypto/signed-messages.ts";
import type { Db } from "../../db/client.ts";
import { controlMessageIds } from "../../db/schema/index.ts";
import { isId } from "../../domain/ids.ts";
import { cpResource } from "../../identity/audit-resource.ts";

/** How far ahead of Central's clock a signer's clock may be. */
const FUTURE_SKEW_MS = 60_000;

export type CheckedControl =
  | { kind: "control"; message: ControlMessage; signed: SignedHeader }
  | { kind: "not_a_control"; signed: SignedHeader; reason: string }
  | { kind: "refused"; code: string };

export interface ControlGate {
  /**
   * Checks a control message's signature and age; audits a refusal. An operator's replay of a
   * dead letter (`replay`) is not refused for its age: it was fresh when it was set aside.
   */
  check(message: BusMessage, replay: boolean): Promise<CheckedControl>;
}

export function createControlGate(verifier: MessageVerifier, maxAgeMs: number, auditor: Auditor): ControlGate {
  async function refuse(m: BusMessage, code: string, reason: string, header?: Partial<SignedHeader>): Promise<CheckedControl> {
    await auditor.record({
      eventType: "security",
      actorType: "service",
      actorId: header?.signer ?? null,
      resource: isId(m.key) ? cpResource(m.key) : null,
      action: "control_message",
      outcome: "failure",
      reason: `${code}: ${reason}`,
      sourceAddress: `kafka:${m.topic}/${m.partition ?? "?"}@${m.offset ?? "?"}`,
      details: { code, key_id: header?.kid, signer: header?.signer, message_id: header?.id },
    });
    return { kind: "refused", code };
  }

  return {
    async check(m, replay) {
      let signed: Verified;
      try {
        signed = verifier.verify(m.value, m.key);
      } catch (err) {
        if (!(err instanceof SignatureError)) throw err;
        return refuse(m, err.code, err.message, err.header);
      }
      const { body, ...header } = signed;
      const age = Date.now() - header.ts;
      if (!replay && (age > maxAgeMs || age < -FUTURE_SKEW_MS))
        return refuse(
          m,
          "stale",
          `signed ${Math.round(age / 1000)} s ago; Central accepts control messages up to ${Math.round(maxAgeMs / 1000)} s old`,
          header,
        );
      const message = parseControlMessage(body);
      return message.ok ? { kind: "control", message: message.value, signed: header } : { kind: "not_a_control", signed: header, reason: message.reason };
    },
  };
}

/**
 * Records a control message's id in the transaction that applies it (or sets it aside). False:
 * it was recorded before, so this is a replay.
 */
export async function firstSighting(tx: Db, signed: SignedHeader): Promise<boolean> {
  const rows = await tx
    .insert(controlMessageIds)
    .values({ id: signed.id, signer: signed.signer })
    .onConflictDoNothing()
    .returning({ id: controlMessageIds.id });
  return rows.length > 0;
}

/** The sweeper's duty: ids older than any message Central would still accept are forgotten. */
export async function forgetOldControlIds(db: Db, maxAgeMs: number): Promise<void> {
  await db.execute(sql`delete from ${controlMessageIds} where seen_at < now() - make_interval(secs => ${(2 * maxAgeMs) / 1000 + 3600}::float8)`);
}
