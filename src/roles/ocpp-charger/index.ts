/** `evnet ocpp-charger`: a simulated OCPP charger (see charger.ts). */
import { createLogger, type Logger } from "../../lib/log.ts";
import { SimulatedCharger } from "./charger.ts";
import type { ChargerConfig } from "./config.ts";

export interface RunningCharger {
  charger: SimulatedCharger;
  stop(): Promise<void>;
}

export async function start(config: ChargerConfig, log: Logger = createLogger(`ocpp-charger ${config.OCPP_CHARGER_ID}`)): Promise<RunningCharger> {
  const charger = new SimulatedCharger(config, log);
  await charger.start();
  log.info("charger connected", { url: config.OCPP_URL, ocpp: config.OCPP_VERSION });
  return { charger, stop: () => charger.stop() };
}
