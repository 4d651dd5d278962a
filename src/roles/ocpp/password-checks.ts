/**
 * The gateway's password checks. The slow hash is paid once per charger and password: after a
 * charger's password has been verified here, its reconnections are recognised by a fingerprint
 * (HMAC under a key that lives only in this process's memory) and cost microseconds instead of
 * a scrypt run. What was verified counts only while the facts it was verified against hold:
 * the stored hash is the same (registering the charger again gives it a new password and hash;
 * deregistering it refuses it before any password is looked at) and no key of the charger was
 * revoked since (an operator's revocation makes the charger prove its password again).
 *
 * Slow checks run a few at a time (one per core by default); a handshake whose check would
 * wait longer than the gateway allows is refused at once (`Busy`, answered 503) and the charger
 * tries again later, as chargers do after a refused connection.
 */
import { newFingerprintKey, passwordFingerprint, sameFingerprint, verifyPassword } from "../../crypto/passwords.ts";
import { BoundedQueue } from "../../lib/bounded-queue.ts";

/** What a password is verified against, as read from the database at the handshake. */
export interface StoredPassword {
  hash: string;
  /** When a key of this charger was last revoked by anything but a new authentication (text, as stored). */
  lastRevokedAt: string | null;
}

export type PasswordCheck = "verified" | "remembered" | "wrong";

interface Remembered {
  hash: string;
  lastRevokedAt: string | null;
  fingerprint: Uint8Array;
}

/** Enough for a large site's chargers; past it the longest-remembered are forgotten first. */
const REMEMBER_AT_MOST = 200_000;

export class PasswordChecks {
  private readonly fingerprintKey = newFingerprintKey();
  private readonly remembered = new Map<string, Remembered>();
  readonly slow: BoundedQueue;

  constructor(o: { concurrency: number; maxWaitMs: number }) {
    this.slow = new BoundedQueue({ concurrency: o.concurrency, maxWaitMs: o.maxWaitMs, initialEstimateMs: 50 });
  }

  /** Checks a charger's password; throws `Busy` when a slow check cannot be had in time. */
  async check(cpId: string, password: Uint8Array, stored: StoredPassword): Promise<PasswordCheck> {
    const fingerprint = passwordFingerprint(this.fingerprintKey, password);
    const known = this.remembered.get(cpId);
    if (known && known.hash === stored.hash && known.lastRevokedAt === stored.lastRevokedAt)
      // The password that matches this hash is known: any other one is wrong, without the slow hash.
      return sameFingerprint(known.fingerprint, fingerprint) ? "remembered" : "wrong";
    this.remembered.delete(cpId);
    if (!(await this.slow.run(() => verifyPassword(password, stored.hash)))) return "wrong";
    if (this.remembered.size >= REMEMBER_AT_MOST) this.remembered.delete(this.remembered.keys().next().value!);
    this.remembered.set(cpId, { hash: stored.hash, lastRevokedAt: stored.lastRevokedAt, fingerprint });
    return "verified";
  }
}
