import type { CAC } from "cac";

interface UpFlags {
  cps?: string;
  drivers?: string;
  host?: string;
  port?: string;
  dataDir?: string;
  chargeSeconds?: string;
  ocppCps?: string;
  ocppPort?: string;
}

export function register(cli: CAC): void {
  cli
    .command("up", "Run the whole network in one process on embedded defaults")
    .option("--cps <n>", "simulated charging points (env UP_CPS, default 5)")
    .option("--ocpp-cps <n>", "simulated OCPP chargers, 1.6 and 2.0.1, through an OCPP gateway (env UP_OCPP_CPS, default 0)")
    .option("--ocpp-port <port>", "where that gateway listens: ws://127.0.0.1:PORT/ocpp (env UP_OCPP_PORT, default 9000)")
    .option("--drivers <n>", "simulated drivers charging in auto mode (env UP_DRIVERS, default 3)")
    .option("--host <addr>", "where the dashboard and API listen (env API_HOST, default 127.0.0.1; 0.0.0.0 for every interface)")
    .option("--port <port>", "dashboard and API port (env API_PORT, default 8000)")
    .option("--data-dir <dir>", "where the embedded database and keys are kept (env EVNET_DATA_DIR, default ./.evnet)")
    .option("--charge-seconds <s>", "how long each simulated charge lasts (env UP_CHARGE_SECONDS, default 20)")
    .example("evnet up --cps 10 --drivers 5")
    .example("evnet up --cps 3 --ocpp-cps 2")
    .action(async (flags: UpFlags) => {
      const { loadUpConfig } = await import("../../roles/up/config.ts");
      const config = loadUpConfig({
        UP_CPS: flags.cps,
        UP_DRIVERS: flags.drivers,
        API_HOST: flags.host,
        API_PORT: flags.port,
        EVNET_DATA_DIR: flags.dataDir,
        UP_CHARGE_SECONDS: flags.chargeSeconds,
        UP_OCPP_CPS: flags.ocppCps,
        UP_OCPP_PORT: flags.ocppPort,
      });
      const { runRole } = await import("../run-role.ts");
      const { start } = await import("../../roles/up/index.ts");
      await runRole(
        "up",
        async () => {
          const network = await start(config);
          const reach = network.everywhere ? " (listening on every interface: use this machine's address from elsewhere)" : "";
          // The token itself only on a terminal: a captured stdout (a log file, CI) gets where it is kept.
          const token = process.stdout.isTTY
            ? `paste this operator token:\n      ${network.operatorToken}`
            : `paste the operator token, "operatorToken" in ${config.EVNET_DATA_DIR}/secrets.json`;
          console.log(
            `\n  evnet is up. Dashboard: ${network.dashboardUrl}${reach}\n  Operator sign-in: press "Sign in" on the dashboard and ${token}\n  (the same token is the admin API's bearer token)\n  Ctrl-C stops everything.\n`,
          );
          return network;
        },
        20_000,
      );
    });
}
