/** An opening thread that fails on a batch of 13 messages (and opens any other): for the failure tests. */
import { joinTexts, openPacked } from "../../../src/crypto/gcm.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<{ id: number; buffer: ArrayBuffer; count: number }>) => {
  const { id, buffer, count } = event.data;
  if (count === 13) throw new Error("thirteen");
  self.postMessage({ id, ...joinTexts(openPacked(buffer, count)) });
};
