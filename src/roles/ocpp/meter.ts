/**
 * Meter values as OCPP 1.6 and 2.0.1 chargers send them, read into Wh and W. 1.6 sends values
 * as strings with a unit (Wh by default, or kWh); 2.0.1 as numbers with a unit and a power-of-ten
 * multiplier. Without a measurand a value is the energy register (Energy.Active.Import.Register);
 * a per-phase value is used only when the charger sends no total.
 */

/** One sampled value of either version, as it arrives. */
export interface SampledValue {
  value: string | number;
  measurand?: string;
  phase?: string;
  context?: string;
  format?: string;
  /** 1.6 */
  unit?: string;
  /** 2.0.1 */
  unitOfMeasure?: { unit?: string; multiplier?: number };
}

export interface MeterValue {
  timestamp: string;
  sampledValue: SampledValue[];
}

export interface MeterReading {
  at: Date;
  /** The energy register (import), Wh. */
  energyWh?: number;
  /** Active import power, W. */
  powerW?: number;
  /** Transaction.Begin, Sample.Periodic, Transaction.End, ... (the register's, when it has one). */
  context?: string;
}

const ENERGY = "Energy.Active.Import.Register";
const POWER = "Power.Active.Import";

const SCALE: Record<string, number> = { Wh: 1, kWh: 1000, W: 1, kW: 1000 };

/** The value in base units (Wh or W), or undefined when it is not a number in a known unit. */
function baseValue(s: SampledValue, base: "Wh" | "W"): number | undefined {
  if (s.format === "SignedData") return undefined;
  const raw = typeof s.value === "number" ? s.value : s.value.trim() === "" ? Number.NaN : Number(s.value);
  if (!Number.isFinite(raw)) return undefined;
  const unit = s.unitOfMeasure?.unit ?? s.unit ?? base;
  const scale = SCALE[unit];
  if (scale === undefined || (base === "Wh") !== unit.endsWith("h")) return undefined;
  const multiplier = 10 ** (s.unitOfMeasure?.multiplier ?? 0);
  return raw * scale * multiplier;
}

/** The total of a measurand: the value without a phase, else the sum of the line phases. */
function total(samples: SampledValue[], measurand: string, base: "Wh" | "W"): { value: number; context?: string } | undefined {
  const of = samples.filter((s) => (s.measurand ?? ENERGY) === measurand);
  const whole = of.find((s) => !s.phase && baseValue(s, base) !== undefined);
  if (whole) return { value: baseValue(whole, base)!, context: whole.context };
  const phases = of.filter((s) => /^L[123]$/.test(s.phase ?? "") && baseValue(s, base) !== undefined);
  if (phases.length === 0) return undefined;
  return { value: phases.reduce((sum, s) => sum + baseValue(s, base)!, 0), context: phases[0]!.context };
}

/** Each meter value's energy register and power, in the order sent; unreadable ones left out. */
export function readMeterValues(values: MeterValue[] | undefined): MeterReading[] {
  const out: MeterReading[] = [];
  for (const mv of values ?? []) {
    const at = new Date(mv.timestamp);
    if (Number.isNaN(at.getTime())) continue;
    const energy = total(mv.sampledValue, ENERGY, "Wh");
    const power = total(mv.sampledValue, POWER, "W");
    if (!energy && !power) continue;
    out.push({ at, energyWh: energy?.value, powerW: power?.value, context: energy?.context ?? mv.sampledValue[0]?.context });
  }
  return out;
}

/** The energy of a session so far, kWh, from the register and the register at its start. */
export function sessionKwh(registerWh: number, startWh: number): number {
  return Math.max(0, registerWh - startWh) / 1000;
}
