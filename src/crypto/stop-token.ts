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

/**
 * A driver's request travels sealed for Central, which the charger cannot open: a stop request
 * also carries, in these headers, what the charger needs to check it (the session, the request
 * id and the proof; none of them a secret or a charging figure).
 */
const STOP_HEADERS = { session: "evnet-stop-session", request: "evnet-stop-request", proof: "evnet-stop-proof" } as const;

export interface StopClaim {
  sessionId: string;
  requestId: string;
  proof: string;
}

export function stopHeaders(claim: StopClaim): Record<string, string> {
  return { [STOP_HEADERS.session]: claim.sessionId, [STOP_HEADERS.request]: claim.requestId, [STOP_HEADERS.proof]: claim.proof };
}

/** The stop a message's headers claim, if they claim one. */
export function stopClaimOf(headers: Record<string, string> | undefined): StopClaim | undefined {
  const sessionId = headers?.[STOP_HEADERS.session];
  const requestId = headers?.[STOP_HEADERS.request];
  const proof = headers?.[STOP_HEADERS.proof];
  return sessionId && requestId && proof ? { sessionId, requestId, proof } : undefined;
}
