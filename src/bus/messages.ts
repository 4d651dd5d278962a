/**
 * Every payload the charging network sends, declared once (valibot) and imported by both ends:
 * driver requests and updates (plain JSON: drivers are not CPs and hold no key), and what CPs
 * and Central say to each other inside the sealed envelope (src/crypto/envelope.ts).
 *
 * Topics and keys: driver requests on `driverRequests` keyed by CP id (so the Central that owns
 * the CP's partition sees them in order with the CP's events); updates on `driverUpdates` keyed
 * by driver id; CP events on `cpEvents` and commands on `cpCommands`, keyed by CP id.
 */
import * as v from "valibot";
import { base64url32Schema } from "../crypto/keys.ts";
import { END_REASONS } from "../domain/billing.ts";
import { CP_PROTOCOLS } from "../domain/cp-protocol.ts";
import { ID_MAX, idSchema, textSchema } from "../domain/ids.ts";
import { type Parsed, validate } from "../lib/parsed.ts";
import { textDecoder } from "./bus.ts";

const id = idSchema();
/** Request and session ids: chosen by a driver's app or by Central, so only a free text's rules. */
export const requestIdSchema = textSchema(100, undefined, { required: true });
const isoTime = v.pipe(v.string(), v.isoTimestamp());
const kw = v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(10_000));
const kwh = v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(1_000_000));
const eur = v.pipe(v.number(), v.finite(), v.minValue(0));
const seconds = v.pipe(v.number(), v.finite(), v.minValue(0));
const endReason = v.picklist(END_REASONS);
/** A session's stop token, or a proof made with one (src/crypto/stop-token.ts): 32 bytes, base64url. */
const secret32 = base64url32Schema;

/** A supply's totals so far, as the engine measures them and the driver sees them stream in. */
const supplyTotals = { power_kw: kw, energy_kwh: kwh, cost_eur: eur, elapsed_s: seconds };

// ---- driver -> Central (topics.driverRequests, key: CP id) -------------------------------

export const chargeRequestSchema = v.object({
  type: v.literal("charge_request"),
  /** Chosen by the driver's app; a repeated id gets the same answer again. */
  request_id: requestIdSchema,
  driver_id: id,
  cp_id: id,
  at: isoTime,
});

export const stopRequestSchema = v.object({
  type: v.literal("stop_request"),
  request_id: requestIdSchema,
  driver_id: id,
  cp_id: id,
  /** The session to stop; without it, the driver's session at the CP. */
  session_id: v.optional(requestIdSchema),
  /**
   * Made with the session's stop token (from the authorisation): the CP's engine, which reads
   * its own CP's requests too, stops at once on it, even while Central cannot answer.
   */
  stop_proof: v.optional(secret32),
  at: isoTime,
});

export const driverRequestSchema = v.variant("type", [chargeRequestSchema, stopRequestSchema]);
export type ChargeRequest = v.InferOutput<typeof chargeRequestSchema>;
export type StopRequest = v.InferOutput<typeof stopRequestSchema>;
export type DriverRequest = v.InferOutput<typeof driverRequestSchema>;

// ---- Central -> driver (topics.driverUpdates, key: driver id) ----------------------------

export const authorisedSchema = v.object({
  type: v.literal("authorised"),
  request_id: requestIdSchema,
  driver_id: id,
  cp_id: id,
  session_id: requestIdSchema,
  price_per_kwh: eur,
  /** This session's stop token, for this driver only: stop requests carry a proof made with it. */
  stop_token: v.optional(secret32),
  at: isoTime,
});

export const refusedSchema = v.object({
  type: v.literal("refused"),
  request_id: requestIdSchema,
  driver_id: id,
  /** The CP the request named; as sent when the request was not readable (it may not be an id). */
  cp_id: textSchema(ID_MAX),
  code: textSchema(64),
  reason: textSchema(),
  at: isoTime,
});

export const stoppingSchema = v.object({
  type: v.literal("stopping"),
  request_id: v.optional(requestIdSchema),
  driver_id: id,
  cp_id: id,
  session_id: requestIdSchema,
  reason: endReason,
  at: isoTime,
});

export const progressSchema = v.object({
  type: v.literal("progress"),
  driver_id: id,
  cp_id: id,
  session_id: requestIdSchema,
  ...supplyTotals,
  at: isoTime,
});

export const ticketSchema = v.object({
  type: v.literal("ticket"),
  session_id: requestIdSchema,
  cp_id: id,
  driver_id: id,
  energy_kwh: kwh,
  price_per_kwh: eur,
  cost_eur: eur,
  started_at: isoTime,
  ended_at: isoTime,
  duration_s: seconds,
  end_reason: endReason,
  /** This ticket replaces one sent before: the engine's final reading arrived after the session was closed. */
  corrected: v.optional(v.boolean()),
});

export const driverUpdateSchema = v.variant("type", [authorisedSchema, refusedSchema, stoppingSchema, progressSchema, ticketSchema]);
export type Authorised = v.InferOutput<typeof authorisedSchema>;
export type Refused = v.InferOutput<typeof refusedSchema>;
export type Stopping = v.InferOutput<typeof stoppingSchema>;
export type Progress = v.InferOutput<typeof progressSchema>;
export type TicketMessage = v.InferOutput<typeof ticketSchema>;
export type DriverUpdate = v.InferOutput<typeof driverUpdateSchema>;

// ---- CP -> Central, sealed (topics.cpEvents, key: CP id) ---------------------------------

/** Each second of a supply: the totals so far (cumulative, so the latest one is the truth). */
export const telemetrySchema = v.object({
  type: v.literal("telemetry"),
  session_id: requestIdSchema,
  ...supplyTotals,
  at: isoTime,
});

export const supplyStartedSchema = v.object({ type: v.literal("supply_started"), session_id: requestIdSchema, at: isoTime });

export const supplyRefusedSchema = v.object({ type: v.literal("supply_refused"), session_id: requestIdSchema, reason: textSchema(), at: isoTime });

/** The engine's final reading; Central closes the session with it. */
export const supplyEndedSchema = v.object({
  type: v.literal("supply_ended"),
  session_id: requestIdSchema,
  reason: endReason,
  power_kw: kw,
  energy_kwh: kwh,
  cost_eur: eur,
  started_at: isoTime,
  ended_at: isoTime,
});

export const ENGINE_HEALTH = ["OK", "KO", "UNKNOWN"] as const;
export type EngineHealth = (typeof ENGINE_HEALTH)[number];

/** The monitor is alive; `interval_s` tells Central when to call it silent (3 intervals). */
/** What the engine is doing as its monitor last saw it: supplying a session (with its meter), or idle (null). */
export const engineSupplySchema = v.nullable(v.object({ session_id: requestIdSchema, energy_kwh: kwh }));
export type EngineSupply = v.InferOutput<typeof engineSupplySchema>;

export const heartbeatSchema = v.object({
  type: v.literal("heartbeat"),
  interval_s: v.pipe(v.number(), v.finite(), v.minValue(0.1), v.maxValue(3600)),
  engine: v.picklist(ENGINE_HEALTH),
  /** Absent when the monitor does not know (the engine does not answer). */
  supply: v.optional(engineSupplySchema),
  at: isoTime,
});

/** The monitor's health check changed its verdict on the engine (sent at start and on each change). */
export const engineStatusSchema = v.object({
  type: v.literal("engine_status"),
  status: v.picklist(["OK", "KO"]),
  detail: textSchema(),
  at: isoTime,
});

/**
 * A session the CP started by itself (a driver's card at the charger, or one it started while
 * offline and reports now): the session id is the CP's, the start time its own clock's.
 */
export const localSessionStartedSchema = v.object({
  type: v.literal("local_session_started"),
  session_id: requestIdSchema,
  driver_id: id,
  started_at: isoTime,
  at: isoTime,
});

const infoText = v.nullable(textSchema(100));

/**
 * What the CP says about itself, at start: maker, model, firmware, how it talks, and whether it
 * goes on charging while disconnected (then a silence does not end its session: its own final
 * record does, when it is back).
 */
export const cpInfoSchema = v.object({
  type: v.literal("cp_info"),
  protocol: v.picklist(CP_PROTOCOLS),
  protocol_version: infoText,
  vendor: infoText,
  model: infoText,
  serial_number: infoText,
  firmware_version: infoText,
  keeps_charging_offline: v.boolean(),
  at: isoTime,
});

/**
 * The engine says what it is supplying, in order with everything else it sends: when it starts
 * (a restarted engine supplies nothing, whatever Central believed) and when Central asks.
 */
export const engineStateSchema = v.object({
  type: v.literal("engine_state"),
  session_id: v.nullable(requestIdSchema),
  energy_kwh: v.optional(kwh),
  cause: v.picklist(["started", "asked"]),
  at: isoTime,
});

export const cpEventSchema = v.variant("type", [
  telemetrySchema,
  supplyStartedSchema,
  supplyRefusedSchema,
  supplyEndedSchema,
  heartbeatSchema,
  engineStatusSchema,
  localSessionStartedSchema,
  cpInfoSchema,
  engineStateSchema,
]);
export type Telemetry = v.InferOutput<typeof telemetrySchema>;
export type SupplyEnded = v.InferOutput<typeof supplyEndedSchema>;
export type Heartbeat = v.InferOutput<typeof heartbeatSchema>;
export type EngineStatus = v.InferOutput<typeof engineStatusSchema>;
export type LocalSessionStarted = v.InferOutput<typeof localSessionStartedSchema>;
export type CpInfo = v.InferOutput<typeof cpInfoSchema>;
export type EngineState = v.InferOutput<typeof engineStateSchema>;
export type CpEvent = v.InferOutput<typeof cpEventSchema>;

// ---- Central -> CP, sealed (topics.cpCommands, key: CP id) -------------------------------

export const startSupplySchema = v.object({
  type: v.literal("start_supply"),
  session_id: requestIdSchema,
  driver_id: id,
  price_per_kwh: eur,
  /** The driver's stop requests carry a proof made with it: the engine stops on them directly. */
  stop_token: v.optional(secret32),
});

export const stopSupplySchema = v.object({ type: v.literal("stop_supply"), session_id: requestIdSchema, reason: endReason });

/** The CP may (not) start new sessions: an operator stopped or resumed it, or frost came or went. */
export const setAvailabilitySchema = v.object({ type: v.literal("set_availability"), available: v.boolean(), reason: textSchema() });

/** Central asks the engine to say what it is supplying (an `engine_state`): its monitor's heartbeat disagreed with Central. */
export const reportStateSchema = v.object({ type: v.literal("report_state") });

export const cpCommandSchema = v.variant("type", [startSupplySchema, stopSupplySchema, setAvailabilitySchema, reportStateSchema]);
export type StartSupply = v.InferOutput<typeof startSupplySchema>;
export type StopSupply = v.InferOutput<typeof stopSupplySchema>;
export type SetAvailability = v.InferOutput<typeof setAvailabilitySchema>;
export type CpCommand = v.InferOutput<typeof cpCommandSchema>;

// ---- parsing -----------------------------------------------------------------------------

/** Parses bytes of plain JSON (driver requests and updates) against a schema. */
export function parseJson<S extends v.GenericSchema>(schema: S, bytes: Uint8Array | string): Parsed<v.InferOutput<S>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof bytes === "string" ? bytes : textDecoder.decode(bytes));
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  return validate(schema, parsed);
}

export const nowIso = (): string => new Date().toISOString();
