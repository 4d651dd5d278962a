/**
 * A driver's account, as its app keeps it: `<EVNET_DATA_DIR>/driver-<id>.json` (owner-only)
 * holds its credential and its current channel key. The first run registers the driver (with
 * the operator's enrollment token) or takes the credential an operator gave it
 * (DRIVER_CREDENTIAL); every run then authenticates for a fresh key. Should the API be away, the
 * key kept from the last run serves.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import type { ChannelKey } from "../../crypto/keys.ts";
import { callJson, NoReply, readReply, refusalText } from "../../http/json-client.ts";
import { tlsFetch } from "../../http/tls-client.ts";
import { AppError } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import { saveOwnerOnly } from "../../lib/private-file.ts";
import { driverKeySchema, registeredDriverSchema } from "../api/shapes.ts";
import type { DriverConfig } from "./config.ts";

const storedSchema = v.object({
  driver_id: v.string(),
  credential: v.string(),
  key_id: v.optional(v.string()),
  /** base64 of the 32-byte channel key */
  key: v.optional(v.string()),
  key_issued_at: v.optional(v.string()),
});
type Stored = v.InferOutput<typeof storedSchema>;

const fileName = (driverId: string) => `driver-${driverId}.json`;

function load(config: DriverConfig): Stored | undefined {
  const file = join(config.EVNET_DATA_DIR, fileName(config.DRIVER_ID));
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw new AppError("bad_request", `${file} is not valid JSON; delete it and register again`);
  }
  const result = v.safeParse(storedSchema, parsed);
  if (!result.success || result.output.driver_id !== config.DRIVER_ID) throw new AppError("bad_request", `${file} is not ${config.DRIVER_ID}'s account file`);
  return result.output;
}

function keyOf(stored: Stored | undefined): ChannelKey | undefined {
  if (!stored?.key_id || !stored.key) return undefined;
  const key = new Uint8Array(Buffer.from(stored.key, "base64"));
  return key.length === 32 ? { keyId: stored.key_id, key } : undefined;
}

/** The API refused (its status, and what it said). */
class Refused extends Error {
  override name = "Refused";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Calls the API and reads its answer by the shape the API declares (src/roles/api/shapes.ts). */
async function callApi<S extends v.GenericSchema>(config: DriverConfig, method: string, path: string, reply: S, options: { body?: unknown; token?: string }) {
  const fetchFn = tlsFetch(config.EVNET_CA_FILE, "EVNET_CA_FILE");
  const url = `${config.API_URL}${path}`;
  const answer = await callJson(fetchFn, url, { method, ...options, timeoutMs: 10_000 });
  if (!answer.ok) throw new Refused(answer.status, `the API refused (${answer.status}): ${refusalText(answer)}`);
  const body = readReply(reply, answer);
  if (!body.ok)
    throw new AppError("unavailable", `the API answered ${method} ${path} in an unexpected shape (${body.reason}); is it another version of evnet?`);
  return body.value as v.InferOutput<S>;
}

/** Registers the driver with the enrollment token; undefined when it has an account already. */
async function register(config: DriverConfig): Promise<string | undefined> {
  if (!config.EVNET_ENROLLMENT_TOKEN)
    throw new AppError(
      "unauthorized",
      `driver ${config.DRIVER_ID} has no account here: set EVNET_ENROLLMENT_TOKEN to register it, or DRIVER_CREDENTIAL to the credential an operator gave you`,
    );
  try {
    const reply = await callApi(config, "POST", "/ev/central/drivers", registeredDriverSchema, {
      body: { driver_id: config.DRIVER_ID },
      token: config.EVNET_ENROLLMENT_TOKEN,
    });
    return reply.driver_credential;
  } catch (err) {
    if (err instanceof Refused && err.status === 409) return undefined;
    throw err;
  }
}

async function authenticate(config: DriverConfig, credential: string): Promise<ChannelKey & { issuedAt: string }> {
  const path = `/ev/central/drivers/${encodeURIComponent(config.DRIVER_ID)}/auth`;
  const reply = await callApi(config, "POST", path, driverKeySchema, { body: { driver_credential: credential } });
  const key = new Uint8Array(Buffer.from(reply.key, "base64"));
  if (key.length !== 32) throw new AppError("unavailable", `the API answered POST ${path} with a key of ${key.length} bytes, not 32`);
  return { keyId: reply.key_id, key, issuedAt: reply.issued_at };
}

function save(config: DriverConfig, credential: string, key?: ChannelKey & { issuedAt?: string }): void {
  saveOwnerOnly(config.EVNET_DATA_DIR, fileName(config.DRIVER_ID), {
    driver_id: config.DRIVER_ID,
    credential,
    ...(key ? { key_id: key.keyId, key: Buffer.from(key.key).toString("base64"), key_issued_at: key.issuedAt } : {}),
  } satisfies Stored);
}

/** The driver's channel key for this run: registered if need be, then a fresh key (or the kept one while the API is away). */
export async function ensureDriverKey(config: DriverConfig, log: Logger): Promise<ChannelKey> {
  const stored = load(config);
  let credential = config.DRIVER_CREDENTIAL ?? stored?.credential;
  if (!credential) {
    credential = await register(config);
    if (!credential)
      throw new AppError(
        "conflict",
        `driver ${config.DRIVER_ID} is registered already: set DRIVER_CREDENTIAL to its credential (an operator can give a new one)`,
      );
    save(config, credential);
    log.info("registered", { driver_id: config.DRIVER_ID });
  }
  try {
    const key = await authenticate(config, credential);
    save(config, credential, key);
    log.info("authenticated", { driver_id: config.DRIVER_ID, key_id: key.keyId });
    return key;
  } catch (err) {
    const kept = keyOf(stored);
    if (err instanceof NoReply && kept && stored?.credential === credential) {
      log.warn("the API cannot be reached; using the key kept from the last run", { driver_id: config.DRIVER_ID, key_id: kept.keyId, err });
      return kept;
    }
    if (err instanceof Refused && err.status === 401)
      throw new AppError(
        "unauthorized",
        `driver ${config.DRIVER_ID}'s credential does not work (${err.message}); ask an operator for a new one (DRIVER_CREDENTIAL)`,
      );
    if (err instanceof NoReply)
      throw new AppError("unavailable", `cannot reach the API at ${new URL(err.url).origin}: ${err.why}`, undefined, { hint: err.hint, cause: err.cause });
    if (err instanceof Refused) throw new AppError("unavailable", err.message);
    throw err;
  }
}
