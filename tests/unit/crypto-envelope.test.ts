import { describe, expect, test } from "bun:test";
import { EnvelopeError, type KeyInfo, MemorySequences, open, readHeader, SequenceCounter, type SequenceStore, seal } from "../../src/crypto/envelope.ts";
import { constantTimeEqual, KeyError, newChannelKey, parseMasterKey, randomToken, unwrapKey, wrapKey } from "../../src/crypto/keys.ts";
import { fieldsOf, sealJson, wireOf, withFields, withFlippedBit } from "../support/envelopes.ts";

const cp1 = newChannelKey();
const cp2 = newChannelKey();
const revoked = newChannelKey();
const driver = newChannelKey("driver");
const keys = new Map<string, KeyInfo>([
  [cp1.keyId, { key: cp1.key, subject: "cp:CP_001", revoked: false }],
  [cp2.keyId, { key: cp2.key, subject: "cp:CP_002", revoked: false }],
  [revoked.keyId, { key: revoked.key, subject: "cp:CP_001", revoked: true }],
  [driver.keyId, { key: driver.key, subject: "driver:D1", revoked: false }],
]);
const lookup = (kid: string) => keys.get(kid);

/** The last sequence accepted per (key, sender), as Central keeps it. */
class Sequences implements SequenceStore {
  private map = new Map<string, number>();
  last(kid: string, sender: string) {
    return this.map.get(`${kid}|${sender}`);
  }
  accept(kid: string, sender: string, seq: number) {
    this.map.set(`${kid}|${sender}`, seq);
  }
}

const sealFromCp1 = (payload: unknown, seq = 1, override: Partial<{ sub: string; kid: string; key: Uint8Array }> = {}) =>
  seal({ sub: override.sub ?? "cp:CP_001", kid: override.kid ?? cp1.keyId, sender: "engine:CP_001", seq }, override.key ?? cp1.key, payload);

/** The same, in format 2 (JSON), as evnet sealed before the binary format. */
const sealJsonFromCp1 = (payload: unknown, seq = 1) => sealJson({ sub: "cp:CP_001", kid: cp1.keyId, sender: "engine:CP_001", seq }, cp1.key, payload);

/** The EnvelopeError code `open` fails with. */
async function failure(wire: string | Uint8Array, sequences: SequenceStore = new Sequences(), expectedSubject?: string): Promise<string> {
  try {
    await open(wire, lookup, sequences, expectedSubject);
  } catch (err) {
    if (err instanceof EnvelopeError) return err.code;
    throw err;
  }
  throw new Error("the envelope opened, but it should not have");
}

/** Re-encodes a format-2 envelope with some of its fields changed. */
const edit = (wire: string, change: Record<string, unknown>) => JSON.stringify({ ...JSON.parse(wire), ...change });

describe("a sealed envelope", () => {
  test("opens under the CP's key to the same payload, header and typed subject", async () => {
    const payload = { type: "telemetry", power_kw: 7.4, energy_kwh: 0.12, cost_eur: 0.04 };
    const opened = await open(sealFromCp1(payload, 42), lookup, new Sequences(), "cp:CP_001");
    expect(opened.payload).toEqual(payload);
    expect(opened.header).toMatchObject({ v: 3, sub: "cp:CP_001", kid: cp1.keyId, sender: "engine:CP_001", seq: 42 });
    expect(opened.subject).toEqual({ type: "cp", id: "CP_001" });
  });

  test("is its header's fields as bytes, then a nonce of its own for every message and the ciphertext", async () => {
    const sender = 'engine:"quoted"\\CP'; // a sender may hold any printable character
    const before = Date.now();
    const wires = Array.from({ length: 3000 }, (_, i) => seal({ sub: "cp:CP_001", kid: cp1.keyId, sender, seq: i + 1 }, cp1.key, { n: i }));
    const first = fieldsOf(wires[0]!);
    expect(first).toMatchObject({ sub: "cp:CP_001", kid: cp1.keyId, sender, seq: 1 });
    expect(first.ts).toBeGreaterThanOrEqual(before);
    expect(first.nonce.length).toBe(12);
    expect(first.ct.length).toBe(JSON.stringify({ n: 0 }).length + 16);
    expect(wireOf(first).equals(Buffer.from(wires[0]!))).toBe(true);
    expect(new Set(wires.map((w) => fieldsOf(w).nonce.toString("hex"))).size).toBe(wires.length);
    const sequences = new Sequences();
    for (const [i, w] of wires.entries()) if (i % 500 === 0 || i === wires.length - 1) expect((await open(w, lookup, sequences)).payload).toEqual({ n: i });
  });

  test("opens under a driver's key for the driver, and not for a CP of the same name", async () => {
    const wire = seal({ sub: "driver:D1", kid: driver.keyId, sender: "driver:D1>CP_001", seq: 1 }, driver.key, { type: "charge_request" });
    expect((await open(wire, lookup, new Sequences())).subject).toEqual({ type: "driver", id: "D1" });
    const asCp = seal({ sub: "cp:D1", kid: driver.keyId, sender: "engine:D1", seq: 1 }, driver.key, {});
    expect(await failure(asCp)).toBe("subject_mismatch");
  });

  test("shows only routing fields on the wire, never the payload", () => {
    const wire = sealFromCp1({ secret_reading: "42.1 kWh" });
    expect(wire.includes("secret_reading")).toBe(false);
    expect(wire.includes("42.1")).toBe(false);
    expect(wire.includes("engine:CP_001")).toBe(true);
  });

  test("will not seal a header text that is not ASCII or longer than 255 characters", () => {
    expect(() => seal({ sub: "cp:CP_001", kid: cp1.keyId, sender: "engine:CP_é", seq: 1 }, cp1.key, {})).toThrow("ASCII");
    expect(() => seal({ sub: "cp:CP_001", kid: cp1.keyId, sender: `engine:${"x".repeat(250)}`, seq: 1 }, cp1.key, {})).toThrow("255");
  });

  test("a header of the longest texts the rules allow seals and opens, also right after a header refused halfway", async () => {
    expect(() => seal({ sub: "cp:CP_001", kid: cp1.keyId, sender: `engine:${"x".repeat(250)}`, seq: 1 }, cp1.key, {})).toThrow("255");
    const sender = `engine:${"y".repeat(193)}`; // a sender's most: 200 characters
    const wire = seal({ sub: "cp:CP_001", kid: cp1.keyId, sender, seq: 7 }, cp1.key, { n: 1 });
    expect(fieldsOf(wire)).toMatchObject({ sub: "cp:CP_001", kid: cp1.keyId, sender, seq: 7 });
    const opened = await open(wire, lookup, new Sequences());
    expect(opened.payload).toEqual({ n: 1 });
    expect(opened.header.sender).toBe(sender);
  });

  test("messages of every size, sealed and opened in any order, each open to their own payload (nothing of one stays for the next)", async () => {
    const sizes = [0, 1, 2, 3, 15, 16, 17, 100, 1000, 10_000, 40_000, 5, 40_000, 0];
    const sealed = sizes.map((n, i) => ({ payload: { i, text: "é".repeat(n / 2) + "x".repeat(n % 2) }, wire: Buffer.alloc(0) as Buffer }));
    for (const [i, m] of sealed.entries()) m.wire = sealFromCp1(m.payload, i + 1);
    for (const m of [...sealed].reverse()) expect((await open(m.wire, lookup, new Sequences())).payload).toEqual(m.payload);
    // a long message, then a short one altered in its tag: refused, whatever the longer one left behind
    const long = sealed[10]!.wire;
    expect((await open(long, lookup, new Sequences())).payload).toEqual(sealed[10]!.payload);
    expect(await failure(withFlippedBit(sealed[1]!.wire, -1))).toBe("tampered");
  });

  test("is refused as tampered when a byte of the ciphertext changes", async () => {
    expect(await failure(withFlippedBit(sealFromCp1({ a: 1 }), 0))).toBe("tampered");
  });

  test("is refused as tampered when an authenticated header field changes", async () => {
    const wire = sealFromCp1({ a: 1 }, 5);
    expect(await failure(withFields(wire, { seq: 6 }))).toBe("tampered");
    expect(await failure(withFields(wire, { sender: "monitor:CP_001" }))).toBe("tampered");
    expect(await failure(withFields(wire, { ts: fieldsOf(wire).ts + 1 }))).toBe("tampered");
    expect(await failure(withFields(wire, { nonce: Buffer.alloc(12) }))).toBe("tampered");
  });

  test("is refused as tampered when sealed with a key other than the one it names", async () => {
    expect(await failure(sealFromCp1({ a: 1 }, 1, { key: newChannelKey().key }))).toBe("tampered");
  });

  test("is refused when it names a key nobody issued", async () => {
    expect(await failure(sealFromCp1({ a: 1 }, 1, { kid: "k_unknown" }))).toBe("unknown_key");
  });

  test("sealed with a key a new authentication replaced, opens when sealed up to the key's end and is refused after", async () => {
    const replaced = newChannelKey();
    const end = Date.now() - 10_000;
    const ring = (kid: string) => (kid === replaced.keyId ? { key: replaced.key, subject: "cp:CP_001", revoked: true, sealedUntil: end } : undefined);
    const sealedAt = (ts: number) => seal({ sub: "cp:CP_001", kid: replaced.keyId, sender: "engine:CP_001", seq: ts, ts }, replaced.key, { a: 1 });
    expect((await open(sealedAt(end - 1000), ring, new MemorySequences())).payload).toEqual({ a: 1 });
    expect((await open(sealedAt(end), ring, new MemorySequences())).payload).toEqual({ a: 1 });
    await expect(open(sealedAt(end + 1), ring, new MemorySequences())).rejects.toMatchObject({ code: "revoked_key" });
  });

  test("is refused when its key has been revoked", async () => {
    expect(await failure(sealFromCp1({ a: 1 }, 1, { kid: revoked.keyId, key: revoked.key }))).toBe("revoked_key");
  });

  test("is refused when it claims to come from a CP other than its key's", async () => {
    expect(await failure(sealFromCp1({ a: 1 }, 1, { sub: "cp:CP_002" }))).toBe("subject_mismatch");
  });

  test("is refused when the bus key names another CP than the envelope", async () => {
    expect(await failure(sealFromCp1({ a: 1 }), new Sequences(), "cp:CP_002")).toBe("subject_mismatch");
  });

  test("is refused as replayed when its sequence is not after the last accepted one", async () => {
    const sequences = new Sequences();
    const wire = sealFromCp1({ a: 1 }, 10);
    const opened = await open(wire, lookup, sequences);
    sequences.accept(opened.header.kid, opened.header.sender, opened.header.seq);
    expect(await failure(wire, sequences)).toBe("replayed");
    expect(await failure(sealFromCp1({ a: 2 }, 9), sequences)).toBe("replayed");
    expect((await open(sealFromCp1({ a: 3 }, 11), lookup, sequences)).payload).toEqual({ a: 3 });
  });

  test("is refused as malformed when it is cut short, misses fields, or has fields of the wrong form", async () => {
    expect(await failure("not json")).toBe("malformed");
    expect(await failure(new TextEncoder().encode("{}"))).toBe("malformed");
    expect(await failure("null")).toBe("malformed");
    const wire = sealFromCp1({ a: 1 });
    for (const cut of [1, 2, 10, wire.length - 29, wire.length - 17]) expect(await failure(wire.subarray(0, cut))).toBe("malformed");
    expect(await failure(Buffer.from([3]))).toBe("malformed");
    expect(await failure(Buffer.from([3, 200, 1, 2]))).toBe("malformed");
    expect(await failure(withFields(wire, { ct: Buffer.alloc(15) }))).toBe("malformed");
    expect(await failure(withFields(wire, { ct: Buffer.alloc(48 * 1024 + 1) }))).toBe("malformed");
    expect(await failure(withFields(wire, { seq: 0 }))).toBe("malformed");
    expect(await failure(withFields(wire, { seq: 1.5 }))).toBe("malformed");
    expect(await failure(withFields(wire, { seq: Number.NaN }))).toBe("malformed");
    expect(await failure(withFields(wire, { ts: 2 ** 60 }))).toBe("malformed");
    expect(await failure(withFields(wire, { sub: "" }))).toBe("malformed");
    expect(await failure(withFields(wire, { sub: "CP_001" }))).toBe("malformed");
    expect(await failure(withFields(wire, { sub: "operator:CP_001" }))).toBe("malformed");
    expect(await failure(withFields(wire, { sub: `cp:${"C".repeat(65)}` }))).toBe("malformed");
  });

  test("is refused as malformed, before any database sees it, when a field carries a NUL, a control or a non-ASCII character", async () => {
    const wire = sealFromCp1({ a: 1 });
    expect(await failure(withFields(wire, { kid: "k_\u0000" }))).toBe("malformed");
    expect(await failure(withFields(wire, { kid: `${cp1.keyId}\n` }))).toBe("malformed");
    expect(await failure(withFields(wire, { sender: "engine:CP_001\u0000" }))).toBe("malformed");
    expect(await failure(withFields(wire, { sender: "engine:CP_001\u001b[2J" }))).toBe("malformed");
    expect(await failure(withFields(wire, { sender: "engine:CP 001" }))).toBe("malformed");
    expect(await failure(withFields(wire, { sender: "engine:CP_\u00e9" }))).toBe("malformed");
    expect(await failure(withFields(wire, { sub: "cp:CP_\u0000" }))).toBe("malformed");
  });

  test("keeps what could be read of a malformed header for the audit entry", () => {
    const codeAndHeader = (wire: string | Uint8Array) => {
      try {
        readHeader(wire);
      } catch (e) {
        return { code: (e as EnvelopeError).code, header: (e as EnvelopeError).header };
      }
      throw new Error("the header was read, but it should not have been");
    };
    expect(codeAndHeader(JSON.stringify({ v: 2, sub: "cp:CP_009", kid: "k_1" }))).toEqual({ code: "malformed", header: { sub: "cp:CP_009", kid: "k_1" } });
    // nothing invisible reaches the audit entry
    expect(codeAndHeader(JSON.stringify({ v: 2, sub: "cp:\u0000", kid: "k_\u0000" }))).toEqual({
      code: "malformed",
      header: { sub: undefined, kid: undefined },
    });
    const wire = seal({ sub: "cp:CP_009", kid: "k_1", sender: "engine:CP_009", seq: 1 }, cp1.key, {});
    expect(codeAndHeader(withFields(wire, { seq: 0 }))).toEqual({ code: "malformed", header: { sub: "cp:CP_009", kid: "k_1" } });
    expect(codeAndHeader(withFields(wire, { sub: "cp:\u0000", kid: "k_\u0000" }))).toEqual({ code: "malformed", header: { sub: undefined, kid: undefined } });
    expect(codeAndHeader(wire.subarray(0, 5)).code).toBe("malformed");
  });
});

describe("an envelope in format 2 (JSON), as evnet sealed before the binary format", () => {
  test("still opens, to the same payload and header", async () => {
    const opened = await open(sealJsonFromCp1({ type: "telemetry", energy_kwh: 0.5 }, 7), lookup, new Sequences(), "cp:CP_001");
    expect(opened.payload).toEqual({ type: "telemetry", energy_kwh: 0.5 });
    expect(opened.header).toMatchObject({ v: 2, sub: "cp:CP_001", kid: cp1.keyId, sender: "engine:CP_001", seq: 7 });
    // as bytes too, the way the bus delivers it
    expect((await open(new TextEncoder().encode(sealJsonFromCp1({ n: 1 })), lookup, new Sequences())).payload).toEqual({ n: 1 });
  });

  test("is refused as tampered when its ciphertext or an authenticated field changes", async () => {
    const wire = sealJsonFromCp1({ a: 1 }, 5);
    const ct = Buffer.from(JSON.parse(wire).ct, "base64url");
    ct[0] = ct[0]! ^ 0x01;
    expect(await failure(edit(wire, { ct: ct.toString("base64url") }))).toBe("tampered");
    expect(await failure(edit(wire, { seq: 6 }))).toBe("tampered");
    expect(await failure(edit(wire, { sender: "monitor:CP_001" }))).toBe("tampered");
    expect(await failure(edit(wire, { ts: JSON.parse(wire).ts + 1 }))).toBe("tampered");
  });

  test("is refused as malformed when a field is missing, of the wrong type or carries a control character", async () => {
    const wire = sealJsonFromCp1({ a: 1 });
    expect(await failure(edit(wire, { v: 1 }))).toBe("malformed");
    expect(await failure(edit(wire, { seq: "1" }))).toBe("malformed");
    expect(await failure(edit(wire, { seq: 0 }))).toBe("malformed");
    expect(await failure(edit(wire, { sub: "operator:CP_001" }))).toBe("malformed");
    expect(await failure(edit(wire, { kid: "k_\u0000" }))).toBe("malformed");
    expect(await failure(edit(wire, { sender: "engine:CP_001\u001b[2J" }))).toBe("malformed");
    expect(await failure(edit(wire, { nonce: "not base64url!!!" }))).toBe("malformed");
  });

  test("is refused as replayed like any other, the binary format's sequences and its own being one", async () => {
    const sequences = new Sequences();
    const opened = await open(sealFromCp1({ a: 1 }, 10), lookup, sequences);
    sequences.accept(opened.header.kid, opened.header.sender, opened.header.seq);
    expect(await failure(sealJsonFromCp1({ a: 1 }, 10), sequences)).toBe("replayed");
    expect((await open(sealJsonFromCp1({ a: 2 }, 11), lookup, sequences)).payload).toEqual({ a: 2 });
  });
});

describe("a sequence counter", () => {
  test("rises strictly, and a new counter (a restarted sender) starts above the old one's values", () => {
    const before = new SequenceCounter();
    const values = Array.from({ length: 1000 }, () => before.next());
    expect(values.every((v, i) => i === 0 || v > values[i - 1]!)).toBe(true);
    const restarted = new SequenceCounter();
    expect(restarted.next()).toBeGreaterThanOrEqual(Date.now() * 1000 - 1_000_000); // clock-based, not 1
  });
});

describe("channel keys at rest", () => {
  const master = parseMasterKey("a".repeat(64));

  const cp = { type: "cp", id: "CP_001" } as const;

  test("a wrapped key unwraps to the same bytes under the same master key, holder and key id", () => {
    const { keyId, key } = newChannelKey();
    const wrapped = wrapKey(master, cp, keyId, key);
    expect(wrapped).not.toContain(Buffer.from(key).toString("base64url"));
    expect([...unwrapKey(master, cp, keyId, wrapped)]).toEqual([...key]);
  });

  test("a wrapped key does not unwrap under another master key, for another holder (a driver of the same name too), or under another key id", () => {
    const { keyId, key } = newChannelKey();
    const wrapped = wrapKey(master, cp, keyId, key);
    expect(() => unwrapKey(parseMasterKey("b".repeat(64)), cp, keyId, wrapped)).toThrow(KeyError);
    expect(() => unwrapKey(master, { type: "cp", id: "CP_002" }, keyId, wrapped)).toThrow(KeyError);
    expect(() => unwrapKey(master, { type: "driver", id: "CP_001" }, keyId, wrapped)).toThrow(KeyError);
    expect(() => unwrapKey(master, cp, "k_other", wrapped)).toThrow(KeyError);
    expect(() => unwrapKey(master, cp, keyId, "v2.x.y")).toThrow(/unknown format/);
  });

  test("each channel key is fresh: 32 random bytes and its own id", () => {
    const [a, b] = [newChannelKey(), newChannelKey()];
    expect(a.key.length).toBe(32);
    expect(a.keyId).not.toBe(b.keyId);
    expect(Buffer.from(a.key).equals(Buffer.from(b.key))).toBe(false);
  });

  test("a master key is read from hex, base64 or a long passphrase, and refused when short", () => {
    expect(parseMasterKey("0f".repeat(32)).length).toBe(32);
    expect(parseMasterKey(Buffer.alloc(32, 7).toString("base64")).length).toBe(32);
    expect(parseMasterKey("correct horse battery staple and more words").length).toBe(32);
    expect(() => parseMasterKey("too short")).toThrow(KeyError);
  });
});

describe("secrets", () => {
  test("compare equal only when identical", () => {
    expect(constantTimeEqual("token-123", "token-123")).toBe(true);
    expect(constantTimeEqual("token-123", "token-124")).toBe(false);
    expect(constantTimeEqual("token", "token-123")).toBe(false);
  });

  test("random tokens do not repeat", () => {
    const tokens = new Set(Array.from({ length: 100 }, () => randomToken()));
    expect(tokens.size).toBe(100);
  });
});
