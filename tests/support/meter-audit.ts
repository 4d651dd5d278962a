/**
 * Every ticket compared with the engine's meter, after a run with faults: what each engine
 * actually metered is read from the bus itself (its sealed messages, opened with the CP's key),
 * what was billed from the database and from the tickets Central sent drivers (opened with
 * their keys).
 *
 * For a session, the meter is the engine's final reading (supply_ended) when it sent one, else
 * the last reading it sent (it died or restarted mid-session: nobody can know more), else zero.
 * A session is:
 *  - short / long: billed energy below / above that meter (a watt-hour of tolerance: the meter's unit);
 *  - wrong end: closed at another time than the engine's final reading says (more than 1 s off);
 *  - stuck: still in progress at the end (or its CP SUPPLYING, or its driver CHARGING, with no session);
 *  - duplicated: two tickets for it that differ, other than one correction replacing the first;
 *  - mismatched ticket: the last ticket the driver got does not say what the database says.
 */
import type postgres from "postgres";
import type { BusMessage } from "../../src/bus/bus.ts";
import type { CpEvent, SupplyEnded, Telemetry, TicketMessage } from "../../src/bus/messages.ts";
import { MemorySequences, open, type Subject, subjectName } from "../../src/crypto/envelope.ts";
import { unwrapKey } from "../../src/crypto/keys.ts";
import { costOf } from "../../src/domain/billing.ts";
import { isProbe } from "../../src/roles/central/probes.ts";

export interface SessionVerdict {
  sessionId: string;
  cpId: string;
  status: string;
  billedKwh: number;
  meterKwh: number;
  /** Where the meter figure comes from. */
  meter: "final" | "last reading" | "none";
  endReason: string | null;
  corrected: boolean;
  problems: string[];
}

export interface MeterAudit {
  sessions: number;
  finished: number;
  /** Sessions whose tickets (database and driver) were compared with a meter. */
  compared: number;
  short: number;
  long: number;
  wrongEnd: number;
  stuck: number;
  duplicated: number;
  mismatchedTicket: number;
  corrected: number;
  /** Sessions billed from the last reading (the engine never sent a final one). */
  fromLastReading: number;
  verdicts: SessionVerdict[];
  /** Problems outside sessions: CPs SUPPLYING or drivers CHARGING without a session in progress. */
  strays: string[];
}

const KWH_TOLERANCE = 0.0005;

/** Every channel key a CP or a driver ever had, by key id (each new authentication gives a new one). */
export type KeyRing = Map<string, { subject: Subject; key: Uint8Array }>;

/** The keys Central stored (wrapped under the master key), unwrapped. */
export async function keyRing(sql: postgres.Sql, masterKey: Uint8Array): Promise<KeyRing> {
  const ring: KeyRing = new Map();
  const add = (subject: Subject, keyId: string, wrapped: string) => ring.set(keyId, { subject, key: unwrapKey(masterKey, subject, keyId, wrapped) });
  for (const r of await sql`select key_id, cp_id, wrapped_key from cp_keys`) add({ type: "cp", id: r.cp_id }, r.key_id, r.wrapped_key);
  for (const r of await sql`select key_id, driver_id, wrapped_key from driver_keys`) add({ type: "driver", id: r.driver_id }, r.key_id, r.wrapped_key);
  return ring;
}

/** Opens a sealed message with the key ring, as its holder would. */
function openWith<T>(m: BusMessage, keys: KeyRing, subject: Subject) {
  return open<T>(
    m.value,
    (kid) => {
      const k = keys.get(kid);
      return k ? { key: k.key, subject: subjectName(k.subject), revoked: false } : undefined;
    },
    new MemorySequences(),
    subjectName(subject),
  );
}

/** The engine's messages per session, in the order they were sent. */
async function engineEvents(wire: BusMessage[], keys: KeyRing): Promise<Map<string, CpEvent[]>> {
  const bySession = new Map<string, CpEvent[]>();
  for (const m of wire) {
    if (isProbe(m)) continue;
    try {
      const opened = await openWith<CpEvent>(m, keys, { type: "cp", id: m.key });
      if (opened.header.sender !== `engine:${m.key}`) continue;
      const p = opened.payload;
      if (!("session_id" in p) || !p.session_id) continue;
      const list = bySession.get(p.session_id) ?? [];
      list.push(p);
      bySession.set(p.session_id, list);
    } catch {
      // sealed under another key (a re-authentication), or not an envelope
    }
  }
  return bySession;
}

/** The tickets Central sent drivers, by session, opened with the drivers' keys. */
export async function ticketsOnTheWire(updates: BusMessage[], keys: KeyRing): Promise<Map<string, TicketMessage[]>> {
  const out = new Map<string, TicketMessage[]>();
  for (const m of updates) {
    try {
      const u = (await openWith<{ type?: string; session_id?: string }>(m, keys, { type: "driver", id: m.key })).payload;
      if (u.type !== "ticket" || !u.session_id) continue;
      const list = out.get(u.session_id) ?? [];
      list.push(u as TicketMessage);
      out.set(u.session_id, list);
    } catch {
      // sealed under a key not in the ring, or not an envelope
    }
  }
  return out;
}

const sameTicket = (a: TicketMessage, b: TicketMessage) =>
  a.energy_kwh === b.energy_kwh && a.cost_eur === b.cost_eur && a.ended_at === b.ended_at && a.end_reason === b.end_reason;

export async function auditMeters(sql: postgres.Sql, cpEvents: BusMessage[], driverUpdates: BusMessage[], keys: KeyRing): Promise<MeterAudit> {
  const events = await engineEvents(cpEvents, keys);
  const tickets = await ticketsOnTheWire(driverUpdates, keys);
  const rows =
    await sql`select session_id, cp_id, status, energy_kwh, cost_eur, price_per_kwh, ended_at, end_reason, corrected_at from charging_sessions order by started_at`;
  const audit: MeterAudit = {
    sessions: rows.length,
    finished: 0,
    compared: 0,
    short: 0,
    long: 0,
    wrongEnd: 0,
    stuck: 0,
    duplicated: 0,
    mismatchedTicket: 0,
    corrected: 0,
    fromLastReading: 0,
    verdicts: [],
    strays: [],
  };
  for (const row of rows) {
    const sessionId = row.session_id as string;
    const mine = events.get(sessionId) ?? [];
    const final = mine.findLast((e): e is SupplyEnded => e.type === "supply_ended");
    const last = mine.findLast((e): e is Telemetry => e.type === "telemetry");
    const meterKwh = final?.energy_kwh ?? last?.energy_kwh ?? 0;
    const v: SessionVerdict = {
      sessionId,
      cpId: row.cp_id,
      status: row.status,
      billedKwh: row.energy_kwh,
      meterKwh,
      meter: final ? "final" : last ? "last reading" : "none",
      endReason: row.end_reason,
      corrected: row.corrected_at !== null,
      problems: [],
    };
    audit.verdicts.push(v);
    if (v.corrected) audit.corrected++;
    if (row.status !== "FINISHED") {
      audit.stuck++;
      v.problems.push("stuck: still in progress");
      continue;
    }
    audit.finished++;
    audit.compared++;
    if (!final && last) audit.fromLastReading++;
    if (row.energy_kwh < meterKwh - KWH_TOLERANCE) {
      audit.short++;
      v.problems.push(`short: billed ${row.energy_kwh} kWh, metered ${meterKwh}`);
    } else if (row.energy_kwh > meterKwh + KWH_TOLERANCE) {
      audit.long++;
      v.problems.push(`long: billed ${row.energy_kwh} kWh, metered ${meterKwh}`);
    }
    if (row.cost_eur !== costOf(row.energy_kwh, row.price_per_kwh))
      v.problems.push(`cost ${row.cost_eur} is not ${row.energy_kwh} kWh at ${row.price_per_kwh}`);
    if (final && Math.abs((row.ended_at as Date).getTime() - Date.parse(final.ended_at)) > 1000) {
      audit.wrongEnd++;
      v.problems.push(`wrong end: ${(row.ended_at as Date).toISOString()}, the engine ended at ${final.ended_at}`);
    }
    const sent = tickets.get(sessionId) ?? [];
    const plain = sent.filter((t) => !t.corrected);
    const corrections = sent.filter((t) => t.corrected);
    if (plain.some((t) => !sameTicket(t, plain[0]!)) || corrections.some((t) => !sameTicket(t, corrections[0]!))) {
      audit.duplicated++;
      v.problems.push(`duplicated: ${sent.length} tickets that differ`);
    }
    const shown = corrections[0] ?? plain[0];
    if (shown && (shown.energy_kwh !== row.energy_kwh || shown.cost_eur !== row.cost_eur)) {
      audit.mismatchedTicket++;
      v.problems.push(`the driver's ticket says ${shown.energy_kwh} kWh / ${shown.cost_eur} €, the database ${row.energy_kwh} / ${row.cost_eur}`);
    }
  }
  for (const r of await sql`select cp_id from charging_points c where status = 'SUPPLYING'
      and not exists (select 1 from charging_sessions s where s.cp_id = c.cp_id and s.status = 'IN_PROGRESS')`)
    audit.strays.push(`CP ${r.cp_id} SUPPLYING without a session in progress`);
  for (const r of await sql`select driver_id from drivers d where status = 'CHARGING'
      and not exists (select 1 from charging_sessions s where s.driver_id = d.driver_id and s.status = 'IN_PROGRESS')`)
    audit.strays.push(`driver ${r.driver_id} CHARGING without a session in progress`);
  audit.stuck += audit.strays.length;
  return audit;
}

/** One line per figure, then the sessions with problems: what a fault run prints. */
export function formatAudit(a: MeterAudit): string {
  const rows: [string, number][] = [
    ["sessions", a.sessions],
    ["finished", a.finished],
    ["tickets compared with the meter", a.compared],
    ["  billed from the final reading", a.compared - a.fromLastReading],
    ["  billed from the last reading (engine died)", a.fromLastReading],
    ["  corrected by a late final reading", a.corrected],
    ["short", a.short],
    ["long", a.long],
    ["wrong end time", a.wrongEnd],
    ["stuck", a.stuck],
    ["duplicated with different content", a.duplicated],
    ["driver's ticket differs from the database", a.mismatchedTicket],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, n]) => `${k.padEnd(width)}  ${String(n).padStart(6)}`);
  const bad = a.verdicts.filter((v) => v.problems.length > 0);
  for (const v of bad.slice(0, 30)) lines.push(`  ${v.sessionId} at ${v.cpId} (${v.endReason ?? v.status}): ${v.problems.join("; ")}`);
  if (bad.length > 30) lines.push(`  ... and ${bad.length - 30} more`);
  for (const s of a.strays) lines.push(`  ${s}`);
  return lines.join("\n");
}

/** The figures that must be zero for a run to pass. */
export function mismatches(a: MeterAudit): number {
  return a.short + a.long + a.wrongEnd + a.stuck + a.duplicated + a.mismatchedTicket;
}
