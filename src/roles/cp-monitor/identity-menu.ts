/**
 * The identity part of the monitor's menu (the original's options 2-6): show connection details,
 * register, delete, authenticate, change location. The monitor's own menu loop lists
 * `identityMenuOptions` among its choices and hands a chosen one to `runIdentityAction`.
 * Headless, the same actions are flags: `ensureIdentity` (register / change location /
 * authenticate at start), `deregister`, and `connectionDetails` (enrollment.ts, this file).
 */

import * as p from "@clack/prompts";
import type { ChannelKey } from "../../crypto/keys.ts";
import { localTime } from "../../lib/local-time.ts";
import type { Logger } from "../../lib/log.ts";
import { activeKeyId, authenticate, changeLocation, deregister, register, showRegistration } from "./enrollment.ts";
import { caFileOf, type IdentityConfig } from "./identity-config.ts";
import { identityFile, loadIdentity } from "./identity-store.ts";

export type IdentityAction = "details" | "register" | "delete" | "authenticate" | "location";

export const identityMenuOptions: { value: IdentityAction; label: string }[] = [
  { value: "details", label: "Show connection details" },
  { value: "register", label: "Register charging point (Registry)" },
  { value: "delete", label: "Delete charging point (Registry)" },
  { value: "authenticate", label: "Authenticate with Central" },
  { value: "location", label: "Change charging point location" },
];

export interface IdentityMenuContext {
  config: IdentityConfig;
  cpId: string;
  log: Logger;
  /** A new key from (re-)authentication: the monitor passes it to its channel and its engine. */
  onNewKey(key: ChannelKey): void | Promise<void>;
  /** Lines the monitor adds to the details (engine address, last heartbeat...). */
  extraDetails?(): Record<string, string>;
}

/** What the monitor knows about its identity, and what the Registry and the API say. Never the key. */
export async function connectionDetails(ctx: IdentityMenuContext): Promise<Record<string, string>> {
  const { config, cpId } = ctx;
  const stored = loadIdentity(config.EVNET_DATA_DIR, cpId);
  const details: Record<string, string> = {
    "CP id": cpId,
    Registry: config.REGISTRY_URL,
    "Central API": config.API_URL,
    "Trusted CA": caFileOf(config) ?? "(system CAs)",
    "State file": identityFile(config.EVNET_DATA_DIR, cpId),
    Location: stored?.location ?? "(not registered)",
    Credential: stored?.credential ? `valid until ${localTime(stored.credential_expires_at)}` : "(none: register first)",
    "Channel key": stored?.key_id ? `${stored.key_id} (issued ${localTime(stored.key_issued_at)})` : "(none: authenticate first)",
    ...ctx.extraDetails?.(),
  };
  try {
    const registration = await showRegistration(config, cpId);
    details["Registry says"] = `registered at ${registration.location}, status ${registration.status}`;
  } catch (err) {
    details["Registry says"] = err instanceof Error ? err.message : String(err);
  }
  try {
    const active = await activeKeyId(config, cpId);
    details["Central says"] = active === null ? "no active key" : active === stored?.key_id ? "this key is active" : `another key is active (${active})`;
  } catch (err) {
    details["Central says"] = err instanceof Error ? err.message : String(err);
  }
  return details;
}

function show(details: Record<string, string>): string {
  const width = Math.max(...Object.keys(details).map((k) => k.length));
  return Object.entries(details)
    .map(([k, v]) => `${k.padEnd(width)}  ${v}`)
    .join("\n");
}

async function ask(message: string, initialValue: string | undefined, signal?: AbortSignal): Promise<string | undefined> {
  const answer = await p.text({ message, initialValue, signal, validate: (s) => (s?.trim() ? undefined : "required") });
  return p.isCancel(answer) ? undefined : answer.trim();
}

/** Runs one identity action chosen in the menu; errors are shown, never thrown. */
export async function runIdentityAction(action: IdentityAction, ctx: IdentityMenuContext, signal?: AbortSignal): Promise<void> {
  const { config, cpId } = ctx;
  try {
    switch (action) {
      case "details":
        p.note(show(await connectionDetails(ctx)), "Connection details");
        return;
      case "register": {
        const stored = loadIdentity(config.EVNET_DATA_DIR, cpId);
        const location = await ask("Location (city)", stored?.location, signal);
        if (location === undefined) return;
        const identity = await register(config, { cpId, location, pricePerKwh: stored?.price_per_kwh });
        p.log.success(`${cpId} registered at ${identity.location}; credential valid until ${localTime(identity.credential_expires_at)}`);
        return;
      }
      case "delete": {
        const sure = await p.confirm({ message: `Deregister ${cpId}? Its credential and key stop working.`, initialValue: false, signal });
        if (p.isCancel(sure) || !sure) return;
        p.log.success(await deregister(config, cpId));
        return;
      }
      case "authenticate": {
        const key = await authenticate(config, cpId);
        await ctx.onNewKey(key);
        p.log.success(`${cpId} authenticated; channel key ${key.keyId}`);
        return;
      }
      case "location": {
        const location = await ask("New location (city)", loadIdentity(config.EVNET_DATA_DIR, cpId)?.location, signal);
        if (location === undefined) return;
        const identity = await changeLocation(config, cpId, location);
        p.log.success(`${cpId} now at ${identity.location} (registered again; new credential)`);
        return;
      }
    }
  } catch (err) {
    p.log.error(err instanceof Error ? err.message : String(err));
  }
}
