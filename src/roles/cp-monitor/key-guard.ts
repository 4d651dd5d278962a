/**
 * How a monitor notices that its key was revoked, and gets a new one. Two ways in:
 * - Central's `key_revoked` notice, sealed with the revoked key (the monitor feeds it here);
 * - a periodic check of `GET /ev/central/charging-points/:id/key-status`: a monitor whose key is
 *   no longer the CP's active one missed the notice (it was down, the bus was), and acts the same.
 * Either way it authenticates again with its credential, once at a time, backing off while that
 * fails (the API is down, the CP was deregistered...).
 */
import type { KeyRevokedNotice } from "../../bus/security-notice.ts";
import type { ChannelKey } from "../../crypto/keys.ts";
import type { Logger } from "../../lib/log.ts";
import { activeKeyId, reauthenticate } from "./enrollment.ts";
import type { IdentityConfig } from "./identity-config.ts";

export interface KeyGuardOptions {
  config: IdentityConfig;
  cpId: string;
  log: Logger;
  /** The key the CP is using now (undefined: none yet). */
  currentKeyId(): string | undefined;
  /** Given the new key after re-authentication: hand it to the CP's channels and its engine. */
  onNewKey(key: ChannelKey): void | Promise<void>;
}

export interface KeyGuard {
  /** Central's authenticated notice that a key was revoked. */
  noticeRevoked(notice: KeyRevokedNotice): void;
  /** Checks the key now instead of waiting for the next tick; resolves when done. */
  checkNow(): Promise<void>;
  stop(): void;
}

const MAX_BACKOFF_MS = 60_000;

export function startKeyGuard(options: KeyGuardOptions): KeyGuard {
  const { config, cpId, log } = options;
  const intervalMs = config.KEY_CHECK_INTERVAL * 1000;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<void> | undefined;
  let failures = 0;
  let apiUnreachableLogged = false;

  async function renew(why: string): Promise<void> {
    log.warn("channel key no longer valid; authenticating again", { cp_id: cpId, why });
    try {
      const key = await reauthenticate(config, { cpId, log });
      failures = 0;
      await options.onNewKey(key);
      log.info("re-authenticated", { cp_id: cpId, key_id: key.keyId });
    } catch (err) {
      failures++;
      log.error("re-authentication failed; will retry", { cp_id: cpId, err, attempt: failures });
    }
  }

  async function check(): Promise<void> {
    let active: string | null;
    try {
      active = await activeKeyId(config, cpId);
      apiUnreachableLogged = false;
    } catch (err) {
      if (!apiUnreachableLogged) log.warn("cannot check the key with the API", { cp_id: cpId, err });
      apiUnreachableLogged = true;
      return;
    }
    const mine = options.currentKeyId();
    if (active !== null && active === mine) return;
    await renew(active === null ? "the CP has no active key (revoked)" : `the active key is ${active}, not ${mine ?? "none"}`);
  }

  /** One check or renewal at a time; callers share the one in progress. */
  function once(work: () => Promise<void>): Promise<void> {
    inFlight ??= work().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  function schedule(): void {
    if (stopped) return;
    const delay = failures === 0 ? intervalMs : Math.min(intervalMs * 2 ** failures, MAX_BACKOFF_MS);
    timer = setTimeout(() => {
      void once(check).finally(schedule);
    }, delay);
    timer.unref?.();
  }

  schedule();
  return {
    noticeRevoked(notice) {
      if (notice.cp_id !== cpId || notice.key_id !== options.currentKeyId()) return; // an older key's notice
      void once(() => renew(`Central revoked key ${notice.key_id}: ${notice.reason}`));
    },
    checkNow: () => once(check),
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
