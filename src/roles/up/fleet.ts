/**
 * The simulated part of `evnet up`: which charging points exist where, and drivers that keep
 * charging at them in turn, as real drivers would.
 */
import type { Logger } from "../../lib/log.ts";
import { type ChargeSettings, chargeOnce } from "../driver/charging.ts";
import type { DriverClient } from "../driver/client.ts";
import { progressLine, type Reporter } from "../driver/output.ts";

const CITIES = ["Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao"] as const;
const PRICES = [0.3, 0.35, 0.28, 0.32, 0.4] as const;

export interface SimulatedCp {
  cpId: string;
  location: string;
  pricePerKwh: number;
}

export function simulatedCps(count: number): SimulatedCp[] {
  return Array.from({ length: count }, (_, i) => ({
    cpId: `CP_${String(i + 1).padStart(3, "0")}`,
    location: CITIES[i % CITIES.length]!,
    pricePerKwh: PRICES[i % PRICES.length]!,
  }));
}

/** OCPP chargers beside evnet's own: OCPP_001... in the same cities. */
export function simulatedOcppChargers(count: number): (SimulatedCp & { version: "1.6" | "2.0.1" })[] {
  return Array.from({ length: count }, (_, i) => ({
    cpId: `OCPP_${String(i + 1).padStart(3, "0")}`,
    location: CITIES[(i + 2) % CITIES.length]!,
    pricePerKwh: PRICES[(i + 1) % PRICES.length]!,
    version: i % 2 === 0 ? "1.6" : "2.0.1",
  }));
}

export function simulatedDriverIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `DRIVER_${String(i + 1).padStart(2, "0")}`);
}

/** Driver output in `up` goes to the log: tickets and refusals at info, progress at debug. */
export function logReporter(log: Logger): Reporter {
  return {
    progress: (p, s) => log.debug(progressLine(p, s)),
    ticket: (t) =>
      log.info("ticket", {
        cp_id: t.cp_id,
        energy_kwh: t.energy_kwh.toFixed(3),
        cost_eur: t.cost_eur.toFixed(2),
        duration_s: t.duration_s,
        end_reason: t.end_reason,
      }),
    refused: (r) => log.info("refused", { cp_id: r.cp_id, code: r.code, reason: r.reason }),
    problem: (cpId, reason) => log.warn("charge problem", { cp_id: cpId, reason }),
    info: (text) => log.debug(text),
  };
}

/**
 * One simulated driver: picks a charging point (starting at its own offset so drivers spread
 * out), charges, pauses, and goes on until stopped.
 */
export async function driveForever(
  client: DriverClient,
  cps: SimulatedCp[],
  offset: number,
  settings: ChargeSettings & { pauseSeconds: number },
  out: Reporter,
  signal: AbortSignal,
): Promise<void> {
  for (let i = offset; !signal.aborted; i++) {
    const cp = cps[i % cps.length]!;
    await chargeOnce(client, cp.cpId, settings, out, signal);
    await sleep(settings.pauseSeconds * 1000 * (0.75 + Math.random() / 2), signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
