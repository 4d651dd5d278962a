/**
 * What Central tells a driver (topics.driverUpdates) travels sealed for that driver: under the
 * key its request came with, when it answers one, else under the driver's active key. A driver
 * without a working key cannot be told anything (it authenticates again when its app starts).
 */
import type { DriverUpdate } from "../../bus/messages.ts";
import { NoActiveKeyError } from "./channel.ts";
import type { Work } from "./work.ts";

/**
 * Seals an update for its driver and queues it with the unit of work (outbox). Returns the
 * update as JSON (what `driver_requests` keeps, to answer a repeated request the same way).
 */
export async function tellDriver(work: Work, update: DriverUpdate, keyId?: string): Promise<string> {
  const value = JSON.stringify(update);
  try {
    work.send(work.ctx.topics.driverUpdates, await work.ctx.channel.sealForDriver(update.driver_id, update, keyId, work.tx));
  } catch (err) {
    if (!(err instanceof NoActiveKeyError)) throw err;
    work.ctx.log.warn("cannot tell a driver anything: it has no working key", { driver_id: update.driver_id, type: update.type });
  }
  return value;
}
