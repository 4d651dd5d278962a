/**
 * A driver's end of the encrypted channel: its requests are sealed with its own key, as sent to
 * the CP they are for (so they cannot be moved to another); Central's answers, progress and
 * tickets come sealed for it (src/channel/client.ts).
 */
import type { BusMessage, OutgoingMessage } from "../../bus/bus.ts";
import { type ClientInbound, createClientChannel } from "../../channel/client.ts";
import type { ChannelKey } from "../../crypto/keys.ts";

export interface DriverChannel {
  readonly driverId: string;
  /** A request for the CP `cpId`, keyed by that CP (topics.driverRequests). */
  seal(payload: unknown, cpId: string): OutgoingMessage;
  open<T = unknown>(message: BusMessage): Promise<ClientInbound<T>>;
}

export function createDriverChannel(driverId: string, key: ChannelKey): DriverChannel {
  const channel = createClientChannel({ subject: { type: "driver", id: driverId }, key });
  return {
    driverId,
    seal: (payload, cpId) => channel.seal(payload, `driver:${driverId}>${cpId}`, cpId),
    open: (message) => channel.open(message),
  };
}
