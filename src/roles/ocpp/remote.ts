/**
 * Central's start and stop of a driver's charge, carried to the charger as a remote start
 * (the driver's id as the token) and a remote stop of the session's transaction. A start the
 * charger refuses, or cannot be asked for, is reported to Central as refused.
 */
import type { StartSupply, StopSupply } from "../../bus/messages.ts";
import { nowIso } from "../../bus/messages.ts";
import type { ChargerLink } from "./link.ts";
import { findBySession } from "./transactions.ts";

let remoteStartIds = Math.floor(Math.random() * 1_000_000);

export async function remoteStart(link: ChargerLink, c: StartSupply): Promise<void> {
  const refuse = (reason: string) => {
    link.ctx.log.warn("remote start refused", { cp_id: link.cpId, session_id: c.session_id, reason, replaced: link.replaced });
    if (link.replaced) return; // the charger's newer connection answers for it now
    link.publish({ type: "supply_refused", session_id: c.session_id, reason, at: nowIso() });
  };
  if (await findBySession(link.ctx.db, link.cpId, c.session_id)) return; // delivered again: it started already
  const dialect = link.dialect;
  if (!dialect) return refuse("the charger has not booted yet");
  if (link.isFaulted) return refuse("the charger reports a fault");
  if (c.driver_id.length > dialect.maxTokenLength)
    return refuse(`the driver id is longer than an OCPP ${link.version} id token (${dialect.maxTokenLength} characters)`);
  try {
    const accepted = await dialect.remoteStart(c.driver_id, ++remoteStartIds);
    if (!accepted) refuse("the charger rejected the remote start");
    else link.ctx.log.info("remote start accepted", { cp_id: link.cpId, session_id: c.session_id, driver_id: c.driver_id });
  } catch (err) {
    refuse(`the charger did not answer the remote start: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export async function remoteStop(link: ChargerLink, c: StopSupply): Promise<void> {
  const tx = await findBySession(link.ctx.db, link.cpId, c.session_id);
  if (!tx) {
    // Not started yet: there is nothing to stop at the charger, and nothing was delivered.
    link.publish({ type: "supply_refused", session_id: c.session_id, reason: `stopped (${c.reason}) before the charger started`, at: nowIso() });
    return;
  }
  if (tx.status !== "open" || !link.dialect) return;
  try {
    const accepted = await link.dialect.remoteStop(tx.ocppTxId);
    link.ctx.log.info("remote stop", { cp_id: link.cpId, session_id: c.session_id, reason: c.reason, accepted });
  } catch (err) {
    link.ctx.log.warn("the charger did not answer a remote stop", { cp_id: link.cpId, session_id: c.session_id, err });
  }
}
