/**
 * The opening thread's code (opening-thread.ts starts it): opens each batch it is sent and
 * answers with the plaintexts, in order, joined (gcm.ts `joinTexts`). It holds nothing between batches.
 */
import { joinTexts, openPacked } from "./gcm.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<{ id: number; buffer: ArrayBuffer; count: number }>) => {
  const { id, buffer, count } = event.data;
  const { text, ends } = joinTexts(openPacked(buffer, count));
  self.postMessage({ id, text, ends }, [ends.buffer]);
};
