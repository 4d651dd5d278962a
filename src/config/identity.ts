/** Settings for identity and security: the tokens, the master key, credential lifetimes, key files. */
import * as v from "valibot";
import { KeyError, parseMasterKey } from "../crypto/keys.ts";
import { optionalString, secretToken } from "./env.ts";
import type { Setting, SettingSchema } from "./settings.ts";

const MASTER_KEY_FORMAT = "is required: 64 hex characters, base64 of 32 bytes, or a passphrase of 32+ characters";

/**
 * EVNET_MASTER_KEY, parsed to 32 bytes. A bad value is reported without echoing it (the config
 * error shows the input, and this one is a secret).
 */
export const masterKey = () =>
  v.pipe(
    v.optional(v.string(), ""),
    v.transform((text): Uint8Array | null => {
      try {
        return text ? parseMasterKey(text) : null;
      } catch (err) {
        if (err instanceof KeyError) return null;
        throw err;
      }
    }),
    v.check((key) => key !== null, MASTER_KEY_FORMAT),
    v.transform((key) => key as Uint8Array),
  );

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** A duration such as `30d`, `12h`, `15m`, `90s` or plain seconds; the result is in seconds. */
export const durationSeconds = (fallback: string) =>
  v.pipe(
    v.optional(v.string(), fallback),
    v.regex(/^\d+\s*[smhd]?$/, "expected a duration such as 30d, 12h, 15m, 90s or a number of seconds"),
    v.transform((text) => {
      const m = /^(\d+)\s*([smhd]?)$/.exec(text)!;
      return Number(m[1]) * UNIT_SECONDS[m[2] || "s"]!;
    }),
    v.minValue(1, "expected a duration of at least 1 second"),
  );

/** A file path with a default, for PEM files made by `evnet certs`. */
export const filePath = (fallback: string) => v.optional(v.pipe(v.string(), v.minLength(1)), fallback);

export const operatorTokenSetting = {
  help: "bearer token of operators (admin API: stop, resume, revoke CPs); 16+ characters",
  schema: secretToken(),
  secret: "value",
} satisfies Setting;

export const serviceTokenSetting = {
  help: "bearer token of services calling the API (the weather office reporting temperatures); 16+ characters",
  schema: secretToken(),
  secret: "value",
} satisfies Setting;

export const enrollmentTokenSetting = {
  help: "token monitors present to register or deregister a CP at the Registry; 16+ characters",
  schema: secretToken(),
  secret: "value",
} satisfies Setting;

export const gatewayTokenSetting = {
  help: "token of the OCPP gateways: they ask the API for the channel key of a charger they authenticated; 16+ characters",
  schema: secretToken(),
  secret: "value",
} satisfies Setting;

/** The Ed25519 key control messages to Central are signed with (src/certs/control-keys.ts reads it, or its default). */
export const controlSigningKeySetting = {
  flag: "--control-signing-key <file>",
  help: "signs control messages to Central (from 'evnet certs')",
  schema: optionalString(),
  defaultText: "certs/control-signing-key.pem",
  secret: "file",
} satisfies Setting;

/** Central checks every control message with it. */
export const controlPublicKeySetting = {
  flag: "--control-public-key <file>",
  help: "the public key control messages are verified with (from 'evnet certs'); Central refuses to start without it",
  schema: optionalString(),
  defaultText: "certs/control-signing-public.pem",
} satisfies Setting;

export const masterKeySetting = {
  help: "wraps the CP channel keys stored in the database (64 hex characters, base64 of 32 bytes, or a 32+ character passphrase); the API's and Central's must be the same",
  schema: masterKey(),
  secret: "value",
} satisfies Setting;

/** The same setting where a role can do without it (it says when it needs it). */
export function optionalSecret<S extends Setting>(setting: S): Omit<S, "schema"> & { schema: ReturnType<typeof optionalString> };
export function optionalSecret<S extends Setting, O extends SettingSchema>(setting: S, schema: O): Omit<S, "schema"> & { schema: O };
export function optionalSecret(setting: Setting, schema: SettingSchema = optionalString()): unknown {
  return { ...setting, schema };
}
