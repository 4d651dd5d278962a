/**
 * Live figures on `topics.centralLive`: Central tells the API the newest figures of the sessions
 * whose readings it applied, a tenth of a second after applying them, so that the API's view of a
 * session in progress does not wait for its row (Central may write a session's row only once per
 * CENTRAL_READINGS_INTERVAL). Display only: bills, tickets and every decision read the database.
 *
 * Each message is signed with the control key (signer `central`, src/crypto/signed-messages.ts)
 * for the bus key `figures`: an API shows only figures a holder of that key sent, unaltered, and
 * not older than `LIVE_MAX_AGE_MS`. Readings are cumulative, so a replayed or late message never
 * takes a session's figures back (the API keeps the newest per session).
 */
import * as v from "valibot";
import type { MessageSigner, MessageVerifier, SignedHeader } from "../crypto/signed-messages.ts";
import { SignatureError } from "../crypto/signed-messages.ts";
import { idSchema } from "../domain/ids.ts";
import type { BusMessage, OutgoingMessage } from "./bus.ts";
import { parseJson, requestIdSchema } from "./messages.ts";

/** The bus key every live message travels under (and is signed for). */
export const LIVE_KEY = "figures";
export const LIVE_SIGNER = "central";
/** Sessions per message: keeps a signed body well under its 64 KiB limit (about 70 bytes each). */
export const LIVE_PER_MESSAGE = 500;
/** Older than this, a message is refused: the figures it carries were replaced long ago. */
export const LIVE_MAX_AGE_MS = 60_000;
/** How far ahead of the reader's clock a signer's clock may be. */
const FUTURE_SKEW_MS = 60_000;

const figure = v.pipe(v.number(), v.finite(), v.minValue(0));

export interface LiveFigure {
  session_id: string;
  cp_id: string;
  power_kw: number;
  energy_kwh: number;
  cost_eur: number;
  /** When Central sent these figures (a tenth of a second at most after it applied the reading). */
  at: string;
}

/**
 * On the wire a session is `[session_id, cp_id, power_kw, energy_kwh, cost_eur]` and the time is
 * the message's: at 10,000 chargers ten thousand figures a second cross the bus, and names
 * repeated in each would be two thirds of the bytes to sign, send and read.
 */
export const liveFiguresSchema = v.object({
  type: v.literal("session_figures"),
  at: v.pipe(v.string(), v.isoTimestamp()),
  sessions: v.pipe(v.array(v.tuple([requestIdSchema, idSchema(), figure, figure, figure])), v.maxLength(LIVE_PER_MESSAGE)),
});

/** The messages that carry `figures` (all sent at `now`), each signed. */
export function signLiveFigures(signer: MessageSigner, figures: Omit<LiveFigure, "at">[], now = Date.now()): OutgoingMessage[] {
  const at = new Date(now).toISOString();
  const messages: OutgoingMessage[] = [];
  for (let i = 0; i < figures.length; i += LIVE_PER_MESSAGE) {
    const sessions = figures.slice(i, i + LIVE_PER_MESSAGE).map((f) => [f.session_id, f.cp_id, f.power_kw, f.energy_kwh, f.cost_eur]);
    messages.push({ key: LIVE_KEY, value: signer.sign(LIVE_KEY, JSON.stringify({ type: "session_figures", at, sessions }), now) });
  }
  return messages;
}

export type OpenedLive =
  | { ok: true; figures: LiveFigure[]; signed: SignedHeader }
  | { ok: false; code: string; reason: string; header?: Partial<SignedHeader> };

/** Checks a live message's signature, signer, age and shape. */
export function openLiveFigures(verifier: MessageVerifier, m: BusMessage, now = Date.now()): OpenedLive {
  let body: string;
  let header: SignedHeader;
  try {
    ({ body, ...header } = verifier.verify(m.value, m.key));
  } catch (err) {
    if (!(err instanceof SignatureError)) throw err;
    return { ok: false, code: err.code, reason: err.message, header: err.header };
  }
  if (m.key !== LIVE_KEY) return { ok: false, code: "wrong_key", reason: `sent under the key '${m.key}', not '${LIVE_KEY}'`, header };
  if (header.signer !== LIVE_SIGNER) return { ok: false, code: "wrong_signer", reason: `signed by '${header.signer}', not by Central`, header };
  const age = now - header.ts;
  if (age > LIVE_MAX_AGE_MS || age < -FUTURE_SKEW_MS)
    return { ok: false, code: "stale", reason: `signed ${Math.round(age / 1000)} s ago; live figures are shown up to ${LIVE_MAX_AGE_MS / 1000} s old`, header };
  const parsed = parseJson(liveFiguresSchema, body);
  if (!parsed.ok) return { ok: false, code: "invalid", reason: parsed.reason, header };
  const at = parsed.value.at;
  const figures = parsed.value.sessions.map(([session_id, cp_id, power_kw, energy_kwh, cost_eur]) => ({
    session_id,
    cp_id,
    power_kw,
    energy_kwh,
    cost_eur,
    at,
  }));
  return { ok: true, figures, signed: header };
}
