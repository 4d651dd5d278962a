import type { CAC } from "cac";

interface ChargerFlags {
  id?: string;
  url?: string;
  ocpp?: string;
  password?: string;
  cert?: string;
  key?: string;
  caFile?: string;
  powerKw?: string;
  meterInterval?: string;
  menu?: boolean;
}

export function register(cli: CAC): void {
  cli
    .command("ocpp-charger", "Run a simulated OCPP charger (1.6 or 2.0.1) against a gateway: plug, unplug, RFID tap, fault")
    .option("--id <id>", "its OCPP identity (env OCPP_CHARGER_ID)")
    .option("--url <url>", "central system, ws(s)://host:port/ocpp (env OCPP_URL)")
    .option("--ocpp <version>", "1.6 or 2.0.1 (env OCPP_VERSION, default 1.6)")
    .option("--password <pw>", "its OCPP password, profiles 1 and 2 (env OCPP_PASSWORD)")
    .option("--cert <pem>", "its client certificate, profile 3 (env OCPP_CHARGER_CERT)")
    .option("--key <pem>", "its client key, profile 3 (env OCPP_CHARGER_KEY)")
    .option("--ca-file <pem>", "CA to trust for wss:// (env EVNET_CA_FILE)")
    .option("--power-kw <kw>", "charging power (env OCPP_CHARGER_POWER_KW, default 11)")
    .option("--meter-interval <s>", "seconds between meter values (env OCPP_METER_INTERVAL, default 10)")
    .option("--no-menu", "no interactive menu even on a terminal")
    .example("evnet ocpp-charger --id CP_OCPP_01 --url ws://127.0.0.1:9000/ocpp --ocpp 2.0.1 --password <its password>")
    .action(async (flags: ChargerFlags) => {
      const { loadChargerConfig } = await import("../../roles/ocpp-charger/config.ts");
      const config = loadChargerConfig({
        OCPP_CHARGER_ID: flags.id,
        OCPP_URL: flags.url,
        OCPP_VERSION: flags.ocpp,
        OCPP_PASSWORD: flags.password,
        OCPP_CHARGER_CERT: flags.cert,
        OCPP_CHARGER_KEY: flags.key,
        EVNET_CA_FILE: flags.caFile,
        OCPP_CHARGER_POWER_KW: flags.powerKw,
        OCPP_METER_INTERVAL: flags.meterInterval,
      });
      const { runRole } = await import("../run-role.ts");
      const { interactive, LogCapture } = await import("../menu.ts");
      const { createLogger } = await import("../../lib/log.ts");
      const logs = flags.menu !== false && interactive() ? new LogCapture() : undefined;
      await runRole("ocpp-charger", async () => {
        const { start } = await import("../../roles/ocpp-charger/index.ts");
        const running = await start(config, createLogger(`ocpp-charger ${config.OCPP_CHARGER_ID}`));
        const abort = new AbortController();
        let done: Promise<void> | undefined;
        if (logs) {
          const { chargerMenu } = await import("../../roles/ocpp-charger/menu.ts");
          done = chargerMenu(running.charger, logs, abort.signal);
        }
        return {
          done,
          async stop() {
            abort.abort();
            await running.stop();
          },
        };
      });
    });
}
