/**
 * Who may open an OCPP connection, decided at the WebSocket handshake: a registered charger
 * (its id is the last part of the URL), over the transport its security profile requires,
 * proving itself with its OCPP password (basic auth, profiles 1 and 2) or with a client
 * certificate from the operator's CA that names it (profile 3). A certificate naming another
 * charger is refused whatever the profile. Every refusal is audited by the caller.
 *
 * One read of the database decides it, and also says which channel key the charger holds now
 * (a gateway that still has that key may give it back instead of asking for a new one).
 */
import { eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { SUPERSEDED_BY_AUTHENTICATION } from "../../db/repos/cp-keys.ts";
import { chargingPoints, ocppChargers } from "../../db/schema/index.ts";
import { isId } from "../../domain/ids.ts";
import type { PasswordCheck, PasswordChecks } from "./password-checks.ts";

/** Subprotocols in the order the gateway prefers them. */
export const SUBPROTOCOLS = ["ocpp2.0.1", "ocpp1.6"] as const;
export type Subprotocol = (typeof SUBPROTOCOLS)[number];

export interface HandshakeFacts {
  cpId: string;
  offered: Set<string>;
  /** The basic-auth password given for this id, as bytes. */
  password?: Uint8Array;
  tls: boolean;
  /** The client certificate, when one was presented. */
  certificate?: { trusted: boolean; commonName?: string };
}

export interface Admitted {
  ok: true;
  subprotocol: Subprotocol;
  proof: "password" | "client_certificate";
  /** How the password was checked: the slow hash, or recognised as verified here before. */
  passwordCheck?: Exclude<PasswordCheck, "wrong">;
  price: number;
  /** The charger's active channel key, if it has one. */
  activeKeyId: string | null;
}

export type Admission = Admitted | { ok: false; status: 400 | 401 | 403 | 404; reason: string };

const refuse = (status: 400 | 401 | 403 | 404, reason: string): Admission => ({ ok: false, status, reason });

/** Throws `Busy` when the password cannot be checked in time (the caller answers 503). */
export async function admit(db: Db, passwords: PasswordChecks, f: HandshakeFacts): Promise<Admission> {
  const subprotocol = SUBPROTOCOLS.find((p) => f.offered.has(p));
  if (!subprotocol) return refuse(400, `no subprotocol in common: offered ${[...f.offered].join(", ") || "none"}, supported ${SUBPROTOCOLS.join(", ")}`);
  if (!isId(f.cpId)) return refuse(400, "the charger id in the URL is not a valid id");
  const cert = f.certificate;
  if (cert?.trusted && cert.commonName !== f.cpId) return refuse(401, `the client certificate names ${cert.commonName ?? "nobody"}, not ${f.cpId}`);
  const [row] = await db
    .select({
      profile: ocppChargers.securityProfile,
      hash: ocppChargers.passwordHash,
      deregisteredAt: chargingPoints.deregisteredAt,
      price: chargingPoints.pricePerKwh,
      activeKeyId: sql<string | null>`(select k.key_id from cp_keys k where k.cp_id = ${ocppChargers.cpId} and k.revoked_at is null
                                         order by k.created_at desc limit 1)`,
      lastRevokedAt: sql<string | null>`(select max(k.revoked_at)::text from cp_keys k where k.cp_id = ${ocppChargers.cpId}
                                          and k.revoked_reason is distinct from ${SUPERSEDED_BY_AUTHENTICATION})`,
    })
    .from(ocppChargers)
    .innerJoin(chargingPoints, eq(chargingPoints.cpId, ocppChargers.cpId))
    .where(eq(ocppChargers.cpId, f.cpId));
  if (!row || row.deregisteredAt) return refuse(404, `${f.cpId} is not a registered OCPP charger`);
  if (row.profile >= 2 && !f.tls) return refuse(403, `${f.cpId} must connect over wss:// (security profile ${row.profile})`);
  if (row.profile === 3) {
    if (!cert) return refuse(401, `${f.cpId} must present its client certificate (security profile 3)`);
    if (!cert.trusted) return refuse(401, "the client certificate is not issued by the operator's CA");
    return { ok: true, subprotocol, proof: "client_certificate", price: row.price, activeKeyId: row.activeKeyId };
  }
  if (!f.password) return refuse(401, `${f.cpId} gave no password (basic auth with its id as the user name)`);
  const check = await passwords.check(f.cpId, f.password, { hash: row.hash, lastRevokedAt: row.lastRevokedAt });
  if (check === "wrong") return refuse(401, "wrong password");
  return { ok: true, subprotocol, proof: "password", passwordCheck: check, price: row.price, activeKeyId: row.activeKeyId };
}
