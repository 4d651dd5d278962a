/**
 * What CPs tell Central (topics.cpEvents, opened envelopes). Telemetry and heartbeats are the hot
 * path: they are collected across the batch and written with one statement each (the latest
 * reading per session, the latest heartbeat per CP). Everything else changes a CP's or a
 * session's state and is applied in order, after the collected readings that came before it.
 */
import { eq, type SQL, sql } from "drizzle-orm";
import type { BusMessage } from "../../bus/bus.ts";
import type { CpEvent, CpInfo, EngineHealth, EngineStatus, EngineSupply, Progress, SupplyEnded, Telemetry } from "../../bus/messages.ts";
import type { EnvelopeHeader } from "../../crypto/envelope.ts";
import { jsonRows, keyList, rowsOf } from "../../db/client.ts";
import { type CpRow, chargingPoints, chargingSessions, type SessionRow } from "../../db/schema/index.ts";
import { statement } from "../../db/statements.ts";
import { costOf, meterKwh } from "../../domain/billing.ts";
import { cpResource } from "../../identity/audit-resource.ts";
import { settled } from "../../lib/settled.ts";
import { changeCp, lockCp } from "./cp-records.ts";
import { partitionKeyOf } from "./held-readings.ts";
import { askEnginesThatDisagree, engineState, stopStraySupply } from "./reconcile.ts";
import { sampleDue, samplesKept } from "./samples.ts";
import { closeSession, correctTicket, lockSession, openLocalSession } from "./sessions.ts";
import type { Work } from "./work.ts";

/** One reading as it came: its sequence, its envelope and where it was read (for an audit entry). */
interface ReadingSeen {
  seq: number;
  header: EnvelopeHeader;
  source: BusMessage;
}

/** A session's readings in a batch: the newest is written; every one must be after the session's last. */
interface PendingTelemetry {
  cpId: string;
  /** the newest reading's sequence */
  seq: number;
  t: Telemetry;
  /** every reading of the session in the batch, in arrival order */
  seen: ReadingSeen[];
}

/** A CP's heartbeats in a batch: the newest is written; every one must be after the CP's last. */
interface PendingHeartbeat {
  intervalS: number;
  engine: EngineHealth;
  supply?: EngineSupply;
  /** the newest heartbeat's sequence */
  seq: number;
  /** every heartbeat of the CP in the batch, in arrival order */
  seen: ReadingSeen[];
}

/** What a batch collects and writes together: readings and heartbeats. */
export type ReadingEvent = Extract<CpEvent, { type: "telemetry" | "heartbeat" }>;

export class CpEventBatch {
  private telemetry = new Map<string, PendingTelemetry>();
  private heartbeats = new Map<string, PendingHeartbeat>();

  constructor(
    private work: Work,
    /** Readings of CPs that sent nothing else in the batch: may be held back from the rows (held-readings.ts). */
    private mayHold = false,
  ) {}

  async add(cpId: string, header: EnvelopeHeader, event: CpEvent, source: BusMessage): Promise<void> {
    if (event.type === "telemetry" || event.type === "heartbeat") return this.collect(cpId, header, event, source);
    await this.flush();
    await applyStateEvent(this.work, cpId, event);
  }

  /** `add` for a reading or a heartbeat (nearly every message), which is only collected: nothing to wait for. */
  collect(cpId: string, header: EnvelopeHeader, event: ReadingEvent, source: BusMessage): void {
    if (event.type === "telemetry") {
      const seen = { seq: header.seq, header, source };
      const prev = this.telemetry.get(event.session_id);
      if (!prev) this.telemetry.set(event.session_id, { cpId, seq: header.seq, t: event, seen: [seen] });
      else {
        prev.seen.push(seen);
        if (prev.seq < header.seq) Object.assign(prev, { cpId, seq: header.seq, t: event });
      }
      return;
    }
    if (event.type === "heartbeat") {
      const seen = { seq: header.seq, header, source };
      const newest = { intervalS: event.interval_s, engine: event.engine, supply: event.supply, seq: header.seq };
      const prev = this.heartbeats.get(cpId);
      if (!prev) this.heartbeats.set(cpId, { ...newest, seen: [seen] });
      else {
        prev.seen.push(seen);
        if (prev.seq < header.seq) Object.assign(prev, newest);
      }
    }
  }

  /**
   * Writes the collected readings and heartbeats. Their statements touch different rows (the
   * sessions', the CPs') and go out together, pipelined on the transaction's connection, the
   * CPs' first (the order every transaction locks in: CP, then session). What a heartbeat then
   * changes in its CP's state (a fault, a reconnection) comes once the readings are written, as
   * before: a session a fault closes is billed for the batch's reading.
   */
  async flush(): Promise<void> {
    const telemetry = [...this.telemetry.values()];
    const heartbeats = [...this.heartbeats.entries()];
    this.telemetry.clear();
    this.heartbeats.clear();
    const [beats] = await settled([
      heartbeats.length ? writeHeartbeats(this.work, heartbeats) : Promise.resolve([]),
      telemetry.length ? applyTelemetry(this.work, telemetry, this.mayHold) : Promise.resolve(),
    ]);
    if (beats.length) await heartbeatEffects(this.work, heartbeats, beats);
  }
}

type SessionReadings = { p: PendingTelemetry; energy: number; cost: number; driverId: string; startedAt: Date };

const earliestSeq = (p: PendingTelemetry) => p.seen.reduce((min, r) => Math.min(min, r.seq), p.seq);

async function applyTelemetry(work: Work, pending: PendingTelemetry[], mayHold: boolean): Promise<void> {
  const { ctx, tx } = work;
  await ctx.sessions.load(
    tx,
    pending.map((p) => p.t.session_id),
  );
  const rows: SessionReadings[] = [];
  const strays: PendingTelemetry[] = [];
  const holding: SessionReadings[] = [];
  for (const p of pending) {
    const s = ctx.sessions.get(p.t.session_id);
    if (!s || s.cpId !== p.cpId) {
      strays.push(p);
      continue;
    }
    const energy = meterKwh(p.t.energy_kwh);
    const r = { p, energy, cost: costOf(energy, s.pricePerKwh), driverId: s.driverId, startedAt: s.startedAt };
    // Held back only when every reading of the batch is after the session's newest, as its row
    // would require; anything else goes to the row, which decides (and audits a replay).
    if (mayHold && ctx.held && earliestSeq(p) > s.lastSeq && newestSource(p).offset !== undefined) holding.push(r);
    else rows.push(r);
  }
  if (holding.length) holdReadings(work, holding);
  // A session takes its newest reading only if every reading of the batch is after its last one.
  const now = Date.now();
  const taken = await writeReadings(work, rows, earliestSeq, now);
  const notTaken = rows.filter((r) => !taken.has(r.p.t.session_id));
  if (strays.length || notTaken.length) {
    // The session's row is the replay guard of its readings (sequences.ts): a reading not after
    // the last one it took is refused and audited like a replayed envelope, and changes nothing.
    const unwritten = [...strays, ...notTaken.map((r) => r.p)];
    const last = await lastReadings(work, unwritten);
    const lastOf = (p: PendingTelemetry) => {
      const row = last.get(p.t.session_id);
      return row && row.cpId === p.cpId ? row : undefined;
    };
    for (const p of unwritten) {
      const row = lastOf(p);
      if (row)
        for (const r of p.seen)
          if (r.seq <= row.last)
            auditReplayed(work, p.cpId, r, `reading ${r.seq} from ${r.header.sender} for session ${p.t.session_id} is not after its last reading ${row.last}`);
    }
    // Those whose newest reading is new still take it (a replayed copy travelled with it).
    const again = notTaken.filter((r) => {
      const row = lastOf(r.p);
      return row?.open && r.p.seq > row.last;
    });
    for (const id of await writeReadings(work, again, (p) => p.seq, now)) taken.add(id);
    for (const p of strays) if (!(p.seq <= (lastOf(p)?.last ?? -1))) await stopStraySupply(work, p.cpId, p.t.session_id);
  }
  const applied = rows.filter((r) => taken.has(r.p.t.session_id));
  for (const r of applied) work.progress(progressOf(r));
  if (applied.length)
    work.afterCommit(() => {
      for (const r of applied) {
        ctx.sessions.tookReading(r.p.t.session_id, r.p.seq);
        ctx.held?.written(r.p.t.session_id, r.p.seq);
      }
    });
  // A reading the database did not take is older than one applied, or its session closed
  // meanwhile (perhaps by another Central): forget the cached session, it is reloaded if open.
  for (const r of rows) if (!taken.has(r.p.t.session_id)) work.afterCommit(() => ctx.sessions.forget(r.p.t.session_id));
}

function progressOf(r: SessionReadings): Progress {
  return {
    type: "progress",
    driver_id: r.driverId,
    cp_id: r.p.cpId,
    session_id: r.p.t.session_id,
    power_kw: r.p.t.power_kw,
    energy_kwh: r.energy,
    cost_eur: r.cost,
    elapsed_s: r.p.t.elapsed_s,
    at: r.p.t.at,
  };
}

/** The message that carried a session's newest reading in the batch. */
function newestSource(p: PendingTelemetry): BusMessage {
  return (p.seen.find((r) => r.seq === p.seq) ?? p.seen[p.seen.length - 1]!).source;
}

/**
 * Readings held back from their rows (held-readings.ts): the drivers' progress leaves as for a
 * written one; once the transaction committed, each session's newest is held, in the order of
 * their messages' offsets (so that each partition's earliest is known at once).
 */
function holdReadings(work: Work, readings: SessionReadings[]): void {
  const { ctx } = work;
  for (const r of readings) work.progress(progressOf(r));
  work.afterCommit(() => {
    const now = Date.now();
    const sourced = readings.map((r) => ({ r, source: newestSource(r.p) }));
    sourced.sort((a, b) => (a.source.offset! < b.source.offset! ? -1 : a.source.offset! > b.source.offset! ? 1 : 0));
    for (const { r, source } of sourced) {
      ctx.held?.hold(
        {
          sessionId: r.p.t.session_id,
          cpId: r.p.cpId,
          powerKw: r.p.t.power_kw,
          energyKwh: r.energy,
          costEur: r.cost,
          seq: r.p.seq,
          at: r.p.t.at,
          partition: partitionKeyOf(source.topic, source.partition ?? 0),
          offset: source.offset!,
        },
        now,
      );
      ctx.sessions.tookReading(r.p.t.session_id, r.p.seq);
    }
  });
}

/**
 * Writes each session's newest reading where the session is in progress at that CP and its
 * last reading is before `after(p)`, keeping those due as samples for the charts (samples.ts)
 * in the same statement; returns the sessions written.
 */
async function writeReadings(work: Work, rows: SessionReadings[], after: (p: PendingTelemetry) => number, now: number): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const readings = rows.map((r) => ({
    id: r.p.t.session_id,
    cp: r.p.cpId,
    p: r.p.t.power_kw,
    e: r.energy,
    c: r.cost,
    q: r.p.seq,
    m: after(r.p),
    t: r.p.t.at,
    k: sampleDue(r.p.t.session_id, now),
  }));
  const written = rowsOf<{ session_id: string; k: boolean; written: boolean }>(await work.tx.execute(readingsUpdate(readings))).filter((r) => r.written);
  const kept = written.filter((r) => r.k).map((r) => r.session_id);
  if (kept.length) work.afterCommit(() => samplesKept(kept, now));
  return new Set(written.map((r) => r.session_id));
}

/**
 * A session's newest reading as writeReadings passes it: `m`, the sequence its last reading must
 * be before; `k`, whether it is kept as a sample if the session takes it.
 */
export interface ReadingRow {
  id: string;
  cp: string;
  p: number;
  e: number;
  c: number;
  q: number;
  m: number;
  t: string;
  k: boolean;
}

/**
 * The readings' statement: one text whatever the batch size (the readings as one JSON
 * parameter, prepared once), the sessions looked up by their ids (keyList). The readings a
 * session took and that are due (`k`) are inserted into session_samples by the same statement:
 * no round trip of their own, and never a sample of a reading the session refused. Answers the
 * readings their sessions took (`written`), with whether a sample was kept (`k`).
 *
 * `skipLocked` (the held readings' writer, which must never wait for a batch): only the rows
 * that can be locked now are updated, and it answers for every reading, `done` saying which
 * were looked at (their row was locked, or there is no such session); the others are to be
 * tried again.
 */
export function readingsUpdate(readings: ReadingRow[], { skipLocked = false } = {}): SQL {
  const ids = () => keyList(readings.map((r) => r.id));
  return sql`
    with v as (select * from json_to_recordset(${jsonRows(readings)}::json) as v(id text, cp text, p float8, e float8, c float8, q bigint, m bigint, t timestamptz, k boolean)),
    locked as (
      select s.session_id from ${chargingSessions} as s
       where ${skipLocked ? sql`s.session_id = any(${ids()})` : sql`false`} order by s.session_id for update of s skip locked),
    taken as (
      update ${chargingSessions} as s
         set power_kw = v.p, energy_kwh = v.e, cost_eur = v.c, last_telemetry_seq = v.q, last_reading_at = v.t, updated_at = now()
        from v
       where s.session_id = any(${ids()})
         and s.session_id = v.id and s.cp_id = v.cp and s.status = 'IN_PROGRESS' and s.last_telemetry_seq < v.m
         ${skipLocked ? sql`and v.id in (select session_id from locked)` : sql``}
      returning s.session_id, s.cp_id, v.p, v.e, v.k),
    kept as (
      insert into session_samples (session_id, cp_id, at, power_kw, energy_kwh)
      select session_id, cp_id, now(), p, e from taken where k
      on conflict do nothing)
    ${
      skipLocked
        ? sql`select v.id as session_id, coalesce(t.k, false) as k, t.session_id is not null as written,
                 (v.id in (select session_id from locked) or v.id not in (select s.session_id from ${chargingSessions} as s where s.session_id = any(${ids()}))) as done
            from v left join taken as t on t.session_id = v.id`
        : sql`select session_id, coalesce(k, false) as k, true as written, true as done from taken`
    }`;
}

/** The sessions' CP, last reading's sequence and whether they are in progress, as their rows say now. */
async function lastReadings(work: Work, pending: PendingTelemetry[]): Promise<Map<string, { cpId: string; last: number; open: boolean }>> {
  const found = rowsOf<{ session_id: string; cp_id: string; last_telemetry_seq: string | number; status: string }>(
    await work.tx.execute(sql`
      select session_id, cp_id, last_telemetry_seq, status from ${chargingSessions}
       where session_id = any(${keyList(pending.map((p) => p.t.session_id))})`),
  );
  return new Map(found.map((r) => [r.session_id, { cpId: r.cp_id, last: Number(r.last_telemetry_seq), open: r.status === "IN_PROGRESS" }]));
}

/** A reading or heartbeat its row refused (not after the last it took): audited like a replayed envelope. */
function auditReplayed(work: Work, cpId: string, r: ReadingSeen, reason: string): void {
  work.ctx.metrics?.refused("replayed");
  work.audit({
    eventType: "security",
    actorType: "cp",
    actorId: cpId,
    resource: cpResource(cpId),
    action: "open_message",
    outcome: "failure",
    reason: `replayed: ${reason}`,
    sourceAddress: `kafka:${r.source.topic}/${r.source.partition ?? "?"}@${r.source.offset ?? "?"}`,
    details: { code: "replayed", key_id: r.header.kid, sender: r.header.sender, seq: r.seq },
  });
}

/** Writes each CP's newest heartbeat its row takes (refusing and auditing a replayed one); returns the rows written. */
async function writeHeartbeats(work: Work, pending: [string, PendingHeartbeat][]): Promise<HeartbeatUpdated[]> {
  pending.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const earliest = (h: PendingHeartbeat) => h.seen.reduce((min, r) => Math.min(min, r.seq), h.seq);
  // A CP takes its newest heartbeat only if every heartbeat of the batch is after its last one.
  const updated = rowsOf<HeartbeatUpdated>(
    await work.tx.execute(heartbeatsUpdate(pending.map(([id, h]) => ({ id, i: h.intervalS, q: h.seq, m: earliest(h) })))),
  );
  if (updated.length < pending.length) {
    // The CP's row is the replay guard of its heartbeats (sequences.ts): one not after the last
    // it took is refused and audited like a replayed envelope; a new one that travelled with it is still taken.
    const taken = new Set(updated.map((r) => r.cp_id));
    const unwritten = pending.filter(([id]) => !taken.has(id));
    const last = new Map(
      rowsOf<{ cp_id: string; last: string | number }>(
        await work.tx.execute(sql`select cp_id, last_heartbeat_seq as last from charging_points where cp_id = any(${keyList(unwritten.map(([id]) => id))})`),
      ).map((r) => [r.cp_id, Number(r.last)]),
    );
    const again: [string, PendingHeartbeat][] = [];
    for (const [cpId, h] of unwritten) {
      const lastSeq = last.get(cpId);
      if (lastSeq === undefined) continue; // not a registered CP: nothing to update, as ever
      for (const r of h.seen)
        if (r.seq <= lastSeq) auditReplayed(work, cpId, r, `heartbeat ${r.seq} from ${r.header.sender} is not after its last heartbeat ${lastSeq}`);
      if (h.seq > lastSeq) again.push([cpId, h]);
    }
    if (again.length)
      updated.push(...rowsOf<HeartbeatUpdated>(await work.tx.execute(heartbeatsUpdate(again.map(([id, h]) => ({ id, i: h.intervalS, q: h.seq, m: h.seq }))))));
  }
  return updated;
}

/** What the heartbeats written say of their CPs: an engine to ask what it supplies, a fault seen or gone, a CP heard again. */
async function heartbeatEffects(work: Work, pending: [string, PendingHeartbeat][], updated: HeartbeatUpdated[]): Promise<void> {
  const engineOf = new Map(pending.map(([cpId, h]) => [cpId, h.engine]));
  const supplyOf = new Map(pending.map(([cpId, h]) => [cpId, h.supply]));
  await askEnginesThatDisagree(
    work,
    updated.filter((r) => r.status === "SUPPLYING" && supplyOf.get(r.cp_id) !== undefined).map((r) => [r.cp_id, supplyOf.get(r.cp_id)!]),
  );
  for (const row of updated) {
    const engine = engineOf.get(row.cp_id) ?? "UNKNOWN";
    const faultSeen = engine === "UNKNOWN" ? row.engine_fault : engine === "KO";
    const reconnected = !row.connected && row.channel_state === "active";
    if (!reconnected && faultSeen === row.engine_fault) continue;
    const cp = await lockCp(work, row.cp_id);
    if (!cp) continue;
    await changeCp(
      work,
      cp,
      { connected: true, engineFault: faultSeen },
      {
        reason: reconnected ? "heartbeats resumed" : faultSeen ? "engine fault (from heartbeat)" : "engine recovered (from heartbeat)",
        actorType: "cp",
        actorId: row.cp_id,
      },
    );
  }
}

type HeartbeatUpdated = { cp_id: string; connected: boolean; engine_fault: boolean; channel_state: string; status: string };

/**
 * The heartbeats' statement: each CP's last connection, interval and heartbeat sequence (`q`),
 * where its last heartbeat is before `m`; the CPs looked up by their ids.
 */
export function heartbeatsUpdate(rows: { id: string; i: number; q: number; m: number }[]): SQL {
  return sql`
    update charging_points as c
       set last_connection_time = now(), heartbeat_interval_s = v.i, last_heartbeat_seq = v.q
      from json_to_recordset(${jsonRows(rows)}::json) as v(id text, i float8, q bigint, m bigint)
     where c.cp_id = any(${keyList(rows.map((r) => r.id))}) and c.cp_id = v.id and c.last_heartbeat_seq < v.m
    returning c.cp_id, c.connected, c.engine_fault, c.channel_state, c.status`;
}

async function applyStateEvent(work: Work, cpId: string, event: Exclude<CpEvent, Telemetry | { type: "heartbeat" }>): Promise<void> {
  // The session an engine's supply event names is locked with its CP: both statements sent
  // together (pipelined, run in this order: the CP's lock is taken first, as everywhere).
  const named = event.type === "supply_started" || event.type === "supply_refused" || event.type === "supply_ended" ? event.session_id : undefined;
  const [cp, session] = named ? await settled([lockCp(work, cpId), lockSession(work, named)]) : [await lockCp(work, cpId), undefined];
  if (!cp) {
    work.ctx.log.warn("event from an unregistered charging point dropped", { cp_id: cpId, type: event.type });
    return;
  }
  const locked = { row: session };
  switch (event.type) {
    case "supply_started":
      return supplyStarted(work, cpId, event.session_id, session);
    case "supply_refused":
      await closeSession(work, cp, event.session_id, { reason: "engine_refused" }, locked);
      return;
    case "supply_ended":
      return supplyEnded(work, cp, event, locked);
    case "engine_status":
      return engineStatus(work, cp, event);
    case "local_session_started":
      return openLocalSession(work, cp, event);
    case "cp_info":
      return cpInfo(work, cp, event);
    case "engine_state":
      return engineState(work, cp, event);
  }
}

/** Keeps what the CP says about itself; whether it charges offline changes what a silence means. */
async function cpInfo(work: Work, cp: CpRow, e: CpInfo): Promise<void> {
  const info = {
    protocol: e.protocol,
    protocolVersion: e.protocol_version,
    vendor: e.vendor,
    model: e.model,
    serialNumber: e.serial_number,
    firmwareVersion: e.firmware_version,
    keepsChargingOffline: e.keeps_charging_offline,
  };
  const same = (Object.keys(info) as (keyof typeof info)[]).every((k) => cp[k] === info[k]);
  if (same) return;
  await work.tx
    .update(chargingPoints)
    .set({ ...info, updatedAt: sql`now()` })
    .where(eq(chargingPoints.cpId, cp.cpId));
  Object.assign(cp, info);
  work.audit({
    eventType: "registration",
    actorType: "cp",
    actorId: cp.cpId,
    resource: cpResource(cp.cpId),
    action: "describe_cp",
    outcome: "success",
    details: { ...e, type: undefined },
  });
}

/** The engine began supplying: the start's wait ends, unless the session is already being ended (its end's wait stays). */
const supplyBegan = statement("central_supply_started", (db) =>
  db
    .update(chargingSessions)
    .set({
      supplyStartedAt: sql`now()`,
      awaitingUntil: sql`case when ${chargingSessions.pendingEndReason} is null then null else ${chargingSessions.awaitingUntil} end`,
    })
    .where(eq(chargingSessions.sessionId, sql.placeholder("sessionId"))),
);

/** `session`: the row of the session it names, locked with the CP. */
async function supplyStarted(work: Work, cpId: string, sessionId: string, session: SessionRow | undefined): Promise<void> {
  if (!session || session.cpId !== cpId || session.status !== "IN_PROGRESS") return stopStraySupply(work, cpId, sessionId);
  await supplyBegan(work.tx, { sessionId });
}

async function supplyEnded(work: Work, cp: CpRow, e: SupplyEnded, locked: { row: SessionRow | undefined }): Promise<void> {
  const final = { reason: e.reason, energyKwh: e.energy_kwh, endedAt: new Date(e.ended_at) };
  // Closed already (its deadline passed, or the CP was found without it): the meter corrects the ticket.
  if (!(await closeSession(work, cp, e.session_id, final, locked))) await correctTicket(work, cp, e.session_id, final, locked);
  // An engine that stops because of a fault says so itself: the CP is broken until its monitor sees it recover.
  if (e.reason === "fault" && !cp.engineFault)
    await changeCp(work, cp, { engineFault: true }, { reason: "the engine stopped supplying because of a fault", actorType: "cp", actorId: cp.cpId });
}

async function engineStatus(work: Work, cp: CpRow, e: EngineStatus): Promise<void> {
  const fault = e.status === "KO";
  if (fault === cp.engineFault) return;
  await changeCp(
    work,
    cp,
    { engineFault: fault },
    {
      reason: fault ? `engine fault: ${e.detail}` : `engine recovered${e.detail ? `: ${e.detail}` : ""}`,
      actorType: "cp",
      actorId: cp.cpId,
    },
  );
}
