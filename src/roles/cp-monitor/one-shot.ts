/** The monitor's headless one-shot actions: `--deregister` and `--details`. */
import type { Logger } from "../../lib/log.ts";
import type { MonitorConfig } from "./config.ts";
import { deregister } from "./enrollment.ts";
import { connectionDetails } from "./identity-menu.ts";

export async function oneShot(config: MonitorConfig, action: "deregister" | "details", log: Logger): Promise<void> {
  if (action === "deregister") {
    console.log(await deregister(config, config.CP_ID));
    return;
  }
  const details = await connectionDetails({ config, cpId: config.CP_ID, log, onNewKey: () => {}, extraDetails: () => ({ Engine: config.ENGINE_ADDRESS }) });
  for (const [k, v] of Object.entries(details)) console.log(`${k.padEnd(24)} ${v}`);
}
