/**
 * The one security notice Central sends a CP through the envelope: "your key was revoked".
 * It is sealed with the revoked key itself (the only key the CP holds), so the CP can trust it
 * and authenticate again.
 */
import * as v from "valibot";
import { idSchema, textSchema } from "../domain/ids.ts";

export const keyRevokedNoticeSchema = v.object({
  type: v.literal("key_revoked"),
  cp_id: idSchema(),
  key_id: idSchema(),
  reason: textSchema(),
});

export type KeyRevokedNotice = v.InferOutput<typeof keyRevokedNoticeSchema>;

export function keyRevokedNotice(cpId: string, keyId: string, reason: string): KeyRevokedNotice {
  return { type: "key_revoked", cp_id: cpId, key_id: keyId, reason };
}

export function isKeyRevokedNotice(payload: unknown): payload is KeyRevokedNotice {
  return v.is(keyRevokedNoticeSchema, payload);
}
