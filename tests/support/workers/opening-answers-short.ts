/** An opening thread that answers with one plaintext too few: for the failure tests. */
import { joinTexts, openPacked } from "../../../src/crypto/gcm.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<{ id: number; buffer: ArrayBuffer; count: number }>) => {
  const { id, buffer, count } = event.data;
  self.postMessage({ id, ...joinTexts(openPacked(buffer, count).slice(1)) });
};
