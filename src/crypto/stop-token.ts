/**
 * A session's stop token: a random secret Central makes when it authorises a session and gives
 * to exactly two parties, the CP's engine (inside the sealed start command) and the driver (in
 * the authorisation). The driver's stop request carries a proof made with it (an HMAC over the
 * session and the request), so the engine can stop at once on its driver's word without waiting
 * for Central, and nobody who merely reads the topics can stop someone else's charge: the token
 * itself never travels in a stop request.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** 256 random bits, base64url. */
export function newStopToken(): string {
  return randomBytes(32).toString("base64url");
}

export function stopProof(token: string, sessionId: string, requestId: string): string {
  return createHmac("sha256", Buffer.from(token, "base64url")).update(`evnet/stop/v1|${sessionId}|${requestId}`).digest("base64url");
}

/** Whether `proof` was made with the session's token for this request. */
export function isStopProof(token: string, sessionId: string, requestId: string, proof: string): boolean {
  const expected = Buffer.from(stopProof(token, sessionId, requestId), "base64url");
  const given = Buffer.from(proof, "base64url");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
