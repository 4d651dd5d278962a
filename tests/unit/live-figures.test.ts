/**
 * Central's live figures for the API (src/bus/live-figures.ts) and the API's store of them
 * (src/roles/api/live/figures.ts): what is refused, and what is laid over a session's row.
 */
import { describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { LIVE_KEY, LIVE_PER_MESSAGE, LIVE_SIGNER, openLiveFigures, signLiveFigures } from "../../src/bus/live-figures.ts";
import { createMessageSigner, createMessageVerifier } from "../../src/crypto/signed-messages.ts";
import { LiveFigures } from "../../src/roles/api/live/figures.ts";
import type { SessionView } from "../../src/roles/api/shapes.ts";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const central = createMessageSigner(privateKey.export({ type: "pkcs8", format: "pem" }).toString(), LIVE_SIGNER);
const verifier = createMessageVerifier(publicKey.export({ type: "spki", format: "pem" }).toString());

const figure = (session_id: string, energy_kwh: number, cp_id = "CP_1") => ({ session_id, cp_id, power_kw: 11, energy_kwh, cost_eur: energy_kwh / 2 });
const asBus = (m: { key: string; value: Uint8Array | string }, key = m.key) => ({ topic: "t.central.live", key, value: Buffer.from(String(m.value)) });

function view(over: Partial<SessionView> = {}): SessionView {
  return {
    session_id: "S1",
    cp_id: "CP_1",
    driver_id: "D1",
    status: "IN_PROGRESS",
    price_per_kwh: 0.5,
    power_kw: 11,
    energy_kwh: 1,
    cost_eur: 0.5,
    started_at: "2026-12-02T10:00:00.000Z",
    updated_at: "2026-12-02T10:00:05.000Z",
    ended_at: null,
    end_reason: null,
    duration_s: 5,
    ...over,
  };
}

describe("live figures on the bus", () => {
  test("travel signed, several hundred to a message, and open as sent", () => {
    const figures = Array.from({ length: LIVE_PER_MESSAGE + 1 }, (_, i) => figure(`S${i}`, i / 10));
    const messages = signLiveFigures(central, figures, Date.parse("2026-12-02T10:00:00Z"));
    expect(messages).toHaveLength(2);
    const opened = messages.map((m) => openLiveFigures(verifier, asBus(m), Date.parse("2026-12-02T10:00:01Z")));
    const all = opened.flatMap((o) => (o.ok ? o.figures : []));
    expect(all).toHaveLength(LIVE_PER_MESSAGE + 1);
    expect(all[3]).toEqual({ ...figure("S3", 0.3), at: "2026-12-02T10:00:00.000Z" });
  });

  test("are refused under another bus key, too old, or when what they carry is not figures", () => {
    const [m] = signLiveFigures(central, [figure("S1", 1)]);
    expect(openLiveFigures(verifier, asBus(m!, "CP_1"))).toMatchObject({ ok: false, code: "bad_signature" }); // signed for LIVE_KEY
    const wrongKey = central.sign("CP_1", JSON.stringify({ type: "session_figures", at: new Date().toISOString(), sessions: [] }));
    expect(openLiveFigures(verifier, asBus({ key: "CP_1", value: wrongKey }))).toMatchObject({ ok: false, code: "wrong_key" });
    const [old] = signLiveFigures(central, [figure("S1", 1)], Date.now() - 120_000);
    expect(openLiveFigures(verifier, asBus(old!))).toMatchObject({ ok: false, code: "stale" });
    const negative = central.sign(LIVE_KEY, JSON.stringify({ type: "session_figures", at: new Date().toISOString(), sessions: [["S1", "CP_1", 11, -1, 0]] }));
    expect(openLiveFigures(verifier, asBus({ key: LIVE_KEY, value: negative }))).toMatchObject({ ok: false, code: "invalid" });
    const notJson = central.sign(LIVE_KEY, "{");
    expect(openLiveFigures(verifier, asBus({ key: LIVE_KEY, value: notJson }))).toMatchObject({ ok: false, code: "invalid" });
  });
});

describe("the API's live figures", () => {
  const at = "2026-12-02T10:00:06.000Z";
  const now = Date.parse(at);

  test("are laid over a row in progress that is behind them", () => {
    const store = new LiveFigures();
    store.apply([{ ...figure("S1", 1.4), at }], now);
    expect(store.over(view(), now)).toMatchObject({ energy_kwh: 1.4, cost_eur: 0.7, updated_at: at });
  });

  test("never take a session back, nor change an ended session or another CP's", () => {
    const store = new LiveFigures();
    store.apply([{ ...figure("S1", 1.4), at }], now);
    store.apply([{ ...figure("S1", 1.2), at: "2026-12-02T10:00:07.000Z" }], now); // late or replayed
    expect(store.over(view(), now).energy_kwh).toBe(1.4);
    expect(store.over(view({ energy_kwh: 1.5 }), now).energy_kwh).toBe(1.5); // the row is ahead
    expect(store.over(view({ status: "FINISHED" }), now).energy_kwh).toBe(1);
    expect(store.over(view({ cp_id: "CP_2" }), now).energy_kwh).toBe(1);
  });

  test("count each change, and forget a session that had no news for two minutes", () => {
    const store = new LiveFigures();
    store.apply([{ ...figure("S1", 1.4), at }], now);
    const version = store.version;
    store.apply([{ ...figure("S1", 1.4), at }], now); // the same again: no change
    expect(store.version).toBe(version);
    store.apply([{ ...figure("S2", 0.1), at }], now + 121_000);
    expect(store.over(view(), now + 121_000).energy_kwh).toBe(1);
    expect(store.size).toBe(1);
  });
});
