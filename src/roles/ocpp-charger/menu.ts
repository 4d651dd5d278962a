/** The simulated charger's menu: plug, unplug, tap an RFID card, fault and recover. */
import * as p from "@clack/prompts";
import { ask, type LogCapture, runMenu } from "../../cli/menu.ts";
import type { SimulatedCharger } from "./charger.ts";

function describe(c: SimulatedCharger): string {
  const lines = [
    `charger         ${c.config.OCPP_CHARGER_ID} (OCPP ${c.config.OCPP_VERSION}) → ${c.config.OCPP_URL}`,
    `connection      ${c.connected ? "connected" : "not connected (retrying)"}`,
    `state           ${c.state}${c.plugged ? ", car plugged in" : ""}`,
    `meter           ${(c.meterWh / 1000).toFixed(3)} kWh`,
  ];
  if (c.tx) lines.push(`charging        card ${c.tx.idTag}, ${((c.meterWh - c.tx.startWh) / 1000).toFixed(3)} kWh so far`);
  if (c.queued) lines.push(`waiting to send ${c.queued} transaction message(s)`);
  return lines.join("\n");
}

export function chargerMenu(c: SimulatedCharger, logs: LogCapture, signal: AbortSignal): Promise<void> {
  return runMenu(
    {
      title: `evnet ocpp-charger ${c.config.OCPP_CHARGER_ID}`,
      status: () => describe(c),
      items: () => [
        c.plugged
          ? { value: "unplug", label: "Unplug the car", hint: c.tx ? "ends the charge" : undefined, run: () => c.unplug() }
          : { value: "plug", label: "Plug a car in", run: () => c.plug() },
        {
          value: "tap",
          label: "Tap an RFID card",
          hint: c.tx ? "the same card stops the charge" : "a driver id",
          run: async () => {
            const tag = await ask("Card (driver id)", { example: "DRIVER_01", initialValue: c.tx?.idTag });
            if (tag) p.log.info(await c.tap(tag));
          },
        },
        c.faulted
          ? { value: "recover", label: "Recover from the fault", run: () => c.setFault(false) }
          : { value: "fault", label: "Simulate a fault", hint: "ends a charge in progress", run: () => c.setFault(true) },
      ],
    },
    logs,
    signal,
  );
}
