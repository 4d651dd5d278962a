/** Config entries for identity and security: the master key, credential lifetimes, key files. */
import * as v from "valibot";
import { KeyError, parseMasterKey } from "../crypto/keys.ts";

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
