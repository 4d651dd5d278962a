/**
 * A monitor's identity actions, over HTTPS trusting the local CA: register the CP with the
 * Registry (credential), deregister it, authenticate with the API (channel key), change its
 * location (register again). The credential and the key are kept in the CP's state file. Every
 * reply is checked against the shape its service declares before anything is stored.
 */
import type * as v from "valibot";
import type { ChannelKey } from "../../crypto/keys.ts";
import { callJson, type JsonReply, NoReply, readReply, refusalText } from "../../http/json-client.ts";
import { tlsFetch } from "../../http/tls-client.ts";
import type { Logger } from "../../lib/log.ts";
import { channelKeySchema, keyStatusSchema } from "../api/shapes.ts";
import { deregistrationSchema, type RegisteredCp, registrationRecordSchema, registrationSchema } from "../registry/shapes.ts";
import { caFileOf, type IdentityConfig } from "./identity-config.ts";
import { channelKeyOf, forgetIdentity, IdentityError, loadIdentity, type StoredIdentity, saveIdentity } from "./identity-store.ts";

export { type IdentityConfig, identitySettings } from "./identity-config.ts";
export { channelKeyOf, IdentityError, loadIdentity, type StoredIdentity } from "./identity-store.ts";

/** An HTTP refusal, with the server's error code and (for 401s) its reason. */
export class RefusedError extends IdentityError {
  override name = "RefusedError";
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The service could not be reached at all (refused, timed out, no route): it may be back later. */
export class UnreachableError extends IdentityError {
  override name = "UnreachableError";
}

/**
 * Whether trying again later may succeed: the service could not be reached (but its certificate
 * was not the problem), or it answered that it cannot serve now (its database is away: 503).
 */
export function isTransient(err: unknown): boolean {
  return err instanceof UnreachableError || (err instanceof RefusedError && [502, 503, 504].includes(err.status));
}

interface Call<S extends v.GenericSchema> {
  service: "Registry" | "API";
  method: string;
  url: string;
  /** The shape the service declares for its answer. */
  reply: S;
  body?: unknown;
  token?: string;
}

async function call<S extends v.GenericSchema>(config: IdentityConfig, c: Call<S>): Promise<v.InferOutput<S>> {
  let reply: JsonReply;
  try {
    reply = await callJson(tlsFetch(caFileOf(config), "EVNET_CA_FILE"), c.url, { method: c.method, body: c.body, token: c.token, timeoutMs: 10_000 });
  } catch (err) {
    if (!(err instanceof NoReply)) throw err;
    // A certificate that is not trusted will not become trusted by waiting; anything else may pass.
    const certificate = /certificate|self.signed|issuer|verify|altname/i.test(`${err.why} ${err.hint ?? ""}`);
    const message = `cannot reach the ${c.service} at ${new URL(c.url).origin}: ${err.why}`;
    const options = { hint: err.hint, cause: err.cause };
    throw certificate ? new IdentityError(message, options) : new UnreachableError(message, options);
  }
  if (!reply.ok) {
    const details = reply.error?.details as { reason?: unknown } | undefined;
    const reason = typeof details?.reason === "string" ? details.reason : undefined;
    throw new RefusedError(reply.status, reply.error?.code, reason, `the ${c.service} refused (${reply.status}): ${refusalText(reply)}`);
  }
  const body = readReply(c.reply, reply);
  if (!body.ok)
    throw new IdentityError(
      `the ${c.service} answered ${c.method} ${new URL(c.url).pathname} in an unexpected shape (${body.reason}); is it another version of evnet?`,
    );
  return body.value;
}

function enrollmentToken(config: IdentityConfig): string {
  if (!config.EVNET_ENROLLMENT_TOKEN) throw new IdentityError("EVNET_ENROLLMENT_TOKEN is needed to register or deregister a charging point (ask the operator)");
  return config.EVNET_ENROLLMENT_TOKEN;
}

const cpPath = (config: IdentityConfig, cpId: string) => `${config.REGISTRY_URL}/ev/registry/charging-points/${encodeURIComponent(cpId)}`;

export interface RegistrationRequest {
  cpId: string;
  location: string;
  pricePerKwh?: number;
}

/** Registers the CP (or updates its registration) and stores the new credential. */
export async function register(config: IdentityConfig, request: RegistrationRequest): Promise<StoredIdentity> {
  const reply = await call(config, {
    service: "Registry",
    method: "POST",
    url: `${config.REGISTRY_URL}/ev/registry/charging-points`,
    reply: registrationSchema,
    body: { cp_id: request.cpId, location: request.location, ...(request.pricePerKwh !== undefined ? { price_per_kwh: request.pricePerKwh } : {}) },
    token: enrollmentToken(config),
  });
  const before = loadIdentity(config.EVNET_DATA_DIR, request.cpId);
  const identity: StoredIdentity = {
    ...before,
    cp_id: request.cpId,
    location: reply.location,
    price_per_kwh: reply.price_per_kwh,
    credential: reply.cp_credential,
    credential_expires_at: reply.credential_expires_at,
  };
  saveIdentity(config.EVNET_DATA_DIR, identity);
  return identity;
}

/** Deregisters the CP and forgets its credential and key: they no longer work anyway. */
export async function deregister(config: IdentityConfig, cpId: string): Promise<string> {
  const reply = await call(config, {
    service: "Registry",
    method: "DELETE",
    url: cpPath(config, cpId),
    reply: deregistrationSchema,
    token: enrollmentToken(config),
  });
  forgetIdentity(config.EVNET_DATA_DIR, cpId);
  return reply.message;
}

/** What the Registry says about the CP (never its credential). */
export async function showRegistration(config: IdentityConfig, cpId: string): Promise<RegisteredCp> {
  return (await call(config, { service: "Registry", method: "GET", url: cpPath(config, cpId), reply: registrationRecordSchema })).charging_point;
}

/** Trades the stored credential for a fresh channel key, and stores the key. */
export async function authenticate(config: IdentityConfig, cpId: string): Promise<ChannelKey> {
  const stored = loadIdentity(config.EVNET_DATA_DIR, cpId);
  if (!stored?.credential) throw new IdentityError(`${cpId} has no credential yet: register it first`);
  const reply = await call(config, {
    service: "API",
    method: "POST",
    url: `${config.API_URL}/ev/central/auth`,
    reply: channelKeySchema,
    body: { cp_id: cpId, cp_credential: stored.credential },
  });
  const identity: StoredIdentity = { ...stored, key_id: reply.key_id, key: reply.key, key_issued_at: reply.issued_at };
  saveIdentity(config.EVNET_DATA_DIR, identity);
  return channelKeyOf(identity)!;
}

/** A new location is a new registration (and a new credential); the key stays valid. */
export async function changeLocation(config: IdentityConfig, cpId: string, location: string): Promise<StoredIdentity> {
  const stored = loadIdentity(config.EVNET_DATA_DIR, cpId);
  return register(config, { cpId, location, pricePerKwh: stored?.price_per_kwh });
}

/** The API's view of which key is the CP's active one (null: none). */
export async function activeKeyId(config: IdentityConfig, cpId: string): Promise<string | null> {
  const url = `${config.API_URL}/ev/central/charging-points/${encodeURIComponent(cpId)}/key-status`;
  return (await call(config, { service: "API", method: "GET", url, reply: keyStatusSchema })).key_id;
}

export interface EnsureOptions {
  cpId: string;
  location?: string;
  pricePerKwh?: number;
  /** Register if there is no credential, it is about to expire, or the location changed. */
  register: boolean;
  /** Always fetch a fresh key; otherwise use the stored one. */
  authenticate: boolean;
  log: Logger;
}

const RENEW_BEFORE_MS = 24 * 3600_000;

function needsRegistration(stored: StoredIdentity | undefined, location: string | undefined): boolean {
  if (!stored?.credential) return true;
  if (location !== undefined && stored.location !== location) return true;
  const expires = stored.credential_expires_at ? Date.parse(stored.credential_expires_at) : 0;
  return expires - Date.now() < RENEW_BEFORE_MS;
}

/** What a monitor does at start: register and authenticate as asked, then hand over the key. */
export async function ensureIdentity(config: IdentityConfig, options: EnsureOptions): Promise<{ key: ChannelKey; identity: StoredIdentity }> {
  const { cpId, log } = options;
  let stored = loadIdentity(config.EVNET_DATA_DIR, cpId);
  if (options.register && needsRegistration(stored, options.location)) {
    const location = options.location ?? stored?.location;
    if (!location) throw new IdentityError(`a location is needed to register ${cpId} (--location)`);
    stored = await register(config, { cpId, location, pricePerKwh: options.pricePerKwh ?? stored?.price_per_kwh });
    log.info("registered", { cp_id: cpId, location, credential_expires_at: stored.credential_expires_at });
  }
  if (options.authenticate) {
    const key = await authenticate(config, cpId);
    log.info("authenticated", { cp_id: cpId, key_id: key.keyId });
    return { key, identity: loadIdentity(config.EVNET_DATA_DIR, cpId)! };
  }
  const key = channelKeyOf(stored);
  if (!key) throw new IdentityError(`${cpId} has no channel key: authenticate it first (--authenticate)`);
  return { key, identity: stored! };
}

/**
 * After revocation: authenticate again with the stored credential. A credential that expired or
 * was superseded is renewed first when the enrollment token is at hand; a deregistered CP stays
 * out (an operator took it out on purpose).
 */
export async function reauthenticate(config: IdentityConfig, options: { cpId: string; log: Logger }): Promise<ChannelKey> {
  const { cpId, log } = options;
  try {
    return await authenticate(config, cpId);
  } catch (err) {
    const renewable = err instanceof RefusedError && err.status === 401 && (err.reason === "expired" || err.reason === "superseded");
    if (!renewable || !config.EVNET_ENROLLMENT_TOKEN) throw err;
    const stored = loadIdentity(config.EVNET_DATA_DIR, cpId);
    if (!stored) throw err;
    log.warn("credential no longer valid; registering again", { cp_id: cpId, reason: err.reason });
    await register(config, { cpId, location: stored.location, pricePerKwh: stored.price_per_kwh });
    return authenticate(config, cpId);
  }
}
