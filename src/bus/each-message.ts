/**
 * How a client of the bus (a CP's engine or monitor, a driver's app, an OCPP gateway) goes
 * through a batch: each message on its own, so that one it cannot handle, whatever the reason
 * (an exception included), is logged and passed over while the ones after it are handled. Such
 * a client keeps no database that could come back: a message that throws once throws again, and
 * letting the batch fail would have the bus deliver it again without end, stalling the
 * partition. Central, which can, sets such messages aside on the dead-letter topic instead
 * (src/roles/central/dead-letters.ts).
 */
import type { Logger } from "../lib/log.ts";
import type { BusMessage } from "./bus.ts";

export async function eachMessage(batch: BusMessage[], handle: (message: BusMessage) => unknown, log: Logger): Promise<void> {
  for (const m of batch) {
    try {
      await handle(m);
    } catch (err) {
      log.error("passed over a message that could not be handled", {
        topic: m.topic,
        partition: m.partition,
        offset: m.offset?.toString(),
        key: m.key.slice(0, 100),
        err,
      });
    }
  }
}
