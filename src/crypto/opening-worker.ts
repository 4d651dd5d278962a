/**
 * The opening thread's code (opening-thread.ts starts it): opens each batch it is sent and
 * answers with the plaintexts, in order. It holds nothing between batches.
 */
import { openPacked } from "./gcm.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<{ id: number; buffer: ArrayBuffer; count: number }>) => {
  const { id, buffer, count } = event.data;
  self.postMessage({ id, texts: openPacked(buffer, count) });
};
