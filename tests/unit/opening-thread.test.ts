/**
 * Opening AES-GCM messages on a thread of their own: the packed batch opens there exactly as each
 * message opens in place (altered ones included), and a thread that fails to start, dies, answers
 * wrongly or never answers costs nothing but the crossing: its batches open in place.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createCipheriv, randomBytes } from "node:crypto";
import { type GcmSealed, gcmOpen, joinTexts, openPacked, packGcm, splitTexts } from "../../src/crypto/gcm.ts";
import { OpeningThread, openInPlace } from "../../src/crypto/opening-thread.ts";
import { createLogger } from "../../src/lib/log.ts";

const log = createLogger("test");
const workers = (name: string) => new URL(`../support/workers/${name}`, import.meta.url);

function sealed(text: string, aadBytes = 20): GcmSealed {
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const aad = randomBytes(aadBytes);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(text, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return { key, bytes: Buffer.concat([aad, nonce, ct]), aadLength: aadBytes };
}

/** Messages that open, and each way one can fail to: every part altered, wrong lengths, nothing at all. */
function mixedBatch(): { messages: GcmSealed[]; expected: (string | null)[] } {
  const messages: GcmSealed[] = [];
  const expected: (string | null)[] = [];
  const add = (m: GcmSealed, text: string | null) => {
    messages.push(m);
    expected.push(text);
  };
  for (let i = 0; i < 30; i++) {
    const text = JSON.stringify({ type: "telemetry", n: i, name: "Ñandú ⚡".repeat(i % 4) });
    add(sealed(text, i % 7 === 0 ? 0 : 10 + i), text);
  }
  const flip = (bytes: Uint8Array, at: number) => {
    const copy = Buffer.from(bytes);
    copy[at] = copy[at]! ^ 1;
    return copy;
  };
  const base = sealed("{}");
  const { bytes, aadLength } = base;
  add({ ...base, bytes: flip(bytes, aadLength + 12) }, null); // ciphertext
  add({ ...base, bytes: flip(bytes, bytes.length - 1) }, null); // tag
  add({ ...base, bytes: flip(bytes, 5) }, null); // associated data
  add({ ...base, bytes: flip(bytes, aadLength + 2) }, null); // nonce
  add({ ...base, key: randomBytes(32) }, null);
  add({ ...base, key: base.key.subarray(0, 16) }, null); // a key of another length
  add({ ...base, aadLength: aadLength - 1 }, null); // the parts cut in other places
  add({ ...base, aadLength: aadLength + 1 }, null);
  add({ ...base, bytes: bytes.subarray(0, aadLength + 12 + 15) }, null); // shorter than a tag
  add({ ...base, bytes: new Uint8Array(0) }, null);
  add({ ...base, aadLength: bytes.length + 1 }, null); // more associated data than bytes
  add(base, "{}"); // the original still opens
  add(sealed(""), ""); // an empty plaintext is a plaintext
  return { messages, expected };
}

describe("a packed batch", () => {
  test("opens message by message as each opens in place, altered ones refused", () => {
    const { messages, expected } = mixedBatch();
    expect(messages.map((m) => gcmOpen(m) ?? null)).toEqual(expected);
    expect(openPacked(packGcm(messages), messages.length)).toEqual(expected);
    expect(openInPlace(messages)).toEqual(expected);
  });

  test("a buffer shorter than it claims opens nothing past its end", () => {
    const { messages } = mixedBatch();
    const packed = packGcm(messages.slice(0, 3));
    const texts = openPacked(packed.slice(0, packed.byteLength - 5), 3);
    expect(texts[0]).toBe(gcmOpen(messages[0]!)!);
    expect(texts[2]).toBeNull();
    expect(openPacked(new ArrayBuffer(0), 2)).toEqual([null, null]);
  });
});

describe("plaintexts joined to cross back", () => {
  test("split into the same texts, those that did not open included", () => {
    const { messages, expected } = mixedBatch();
    expect(splitTexts(joinTexts(expected), expected.length)).toEqual(expected);
    expect(splitTexts(joinTexts(openPacked(packGcm(messages), messages.length)), messages.length)).toEqual(expected);
    expect(splitTexts(joinTexts([]), 0)).toEqual([]);
    expect(splitTexts(joinTexts([null, "", null]), 3)).toEqual([null, "", null]);
  });

  test("an answer that is not a join of as many texts is not split at all", () => {
    const joined = joinTexts(["{}", "Ñandú ⚡", null, "[1]"]);
    expect(splitTexts(joined, 3)).toBeUndefined();
    expect(splitTexts(joined, 5)).toBeUndefined();
    expect(splitTexts({ ...joined, text: joined.text.slice(1) }, 4)).toBeUndefined(); // ends past the text
    expect(splitTexts({ ...joined, text: `${joined.text}x` }, 4)).toBeUndefined(); // text left over
    expect(splitTexts({ ...joined, ends: Int32Array.from([2, 1, -1, 12]) }, 4)).toBeUndefined(); // an end before the last
    expect(splitTexts({ ...joined, ends: [...joined.ends] }, 4)).toBeUndefined();
    expect(splitTexts({ texts: ["{}"] }, 1)).toBeUndefined();
    expect(splitTexts(null, 0)).toBeUndefined();
  });
});

describe("the opening thread", () => {
  const threads: OpeningThread[] = [];
  const thread = (options: ConstructorParameters<typeof OpeningThread>[1]) => {
    const t = new OpeningThread(log, options);
    threads.push(t);
    return t;
  };
  afterEach(async () => {
    await Promise.all(threads.splice(0).map((t) => t.close()));
  });

  test("opens a batch there, and a small one in place, with the same results", async () => {
    const t = thread({ minBatch: 10 });
    const { messages, expected } = mixedBatch();
    const [a, b] = await Promise.all([t.open(messages), t.open(messages.slice(0, 20))]);
    expect(a).toEqual(expected);
    expect(b).toEqual(expected.slice(0, 20));
    expect(t.counts).toEqual({ thread: messages.length + 20, inPlace: 0, failures: 0 });
    expect(await t.open(messages.slice(0, 9))).toEqual(expected.slice(0, 9));
    expect(t.counts.inPlace).toBe(9);
  });

  test("a thread that dies on a batch: that batch and those sent with it open in place; a new thread comes after the pause", async () => {
    const t = thread({ minBatch: 1, restartAfterMs: 200, workerUrl: workers("opening-crashes-on-13.ts") });
    const { messages, expected } = mixedBatch();
    expect(await t.open(messages.slice(0, 5))).toEqual(expected.slice(0, 5));
    expect(t.counts.thread).toBe(5);
    const [dies, alongside] = await Promise.all([t.open(messages.slice(0, 13)), t.open(messages.slice(0, 7))]);
    expect(dies).toEqual(expected.slice(0, 13));
    expect(alongside).toEqual(expected.slice(0, 7));
    expect(t.counts.failures).toBe(1);
    expect(t.counts.thread).toBe(5);
    // within the pause: in place
    expect(await t.open(messages.slice(0, 4))).toEqual(expected.slice(0, 4));
    expect(t.counts.inPlace).toBe(13 + 7 + 4);
    await Bun.sleep(250);
    expect(await t.open(messages)).toEqual(expected);
    expect(t.counts.thread).toBe(5 + messages.length);
  });

  test("a thread that never answers: its batches open in place once the wait is over", async () => {
    const t = thread({ minBatch: 1, answerWithinMs: 150, workerUrl: workers("opening-never-answers.ts") });
    const { messages, expected } = mixedBatch();
    const started = performance.now();
    expect(await t.open(messages)).toEqual(expected);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(t.counts).toEqual({ thread: 0, inPlace: messages.length, failures: 1 });
  });

  test("an answer of the wrong length is not taken: that batch opens in place, and the thread counts as failed", async () => {
    const t = thread({ minBatch: 1, workerUrl: workers("opening-answers-short.ts") });
    const { messages, expected } = mixedBatch();
    expect(await t.open(messages)).toEqual(expected);
    expect(t.counts).toEqual({ thread: 0, inPlace: messages.length, failures: 1 });
    // Paused: the next batch opens in place without crossing.
    expect(await t.open(messages)).toEqual(expected);
    expect(t.counts).toEqual({ thread: 0, inPlace: 2 * messages.length, failures: 1 });
  });

  test("a thread whose code cannot be loaded: batches open in place", async () => {
    const t = thread({ minBatch: 1, workerUrl: workers("no-such-worker.ts") });
    const { messages, expected } = mixedBatch();
    expect(await t.open(messages)).toEqual(expected);
    expect(await t.open(messages)).toEqual(expected);
    expect(t.counts.thread).toBe(0);
    expect(t.counts.failures).toBe(1);
  });

  test("closing settles what it holds in place, and opens in place after", async () => {
    const t = thread({ minBatch: 1, answerWithinMs: 60_000, workerUrl: workers("opening-never-answers.ts") });
    const { messages, expected } = mixedBatch();
    const held = t.open(messages);
    await Bun.sleep(20);
    await t.close();
    expect(await held).toEqual(expected);
    expect(await t.open(messages.slice(0, 3))).toEqual(expected.slice(0, 3));
    expect(t.counts).toEqual({ thread: 0, inPlace: messages.length + 3, failures: 0 });
  });
});
