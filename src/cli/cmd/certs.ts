import type { CAC } from "cac";
import { defineCommand } from "../command.ts";

export function register(cli: CAC): void {
  defineCommand(
    cli,
    {
      usage: "certs",
      description: "Make a local CA, the server certificate and the Registry's signing key into a folder",
      settings: {},
      switches: {
        dir: { flag: "--dir <dir>", help: "folder to write them to", default: "certs" },
        hosts: { flag: "--hosts <list>", help: "extra host names or IPs the server certificate is for, comma-separated (always: localhost, 127.0.0.1, ::1)" },
        force: { flag: "--force", help: "make a new CA even if one exists (clients then need the new ca.pem)" },
        charger: {
          flag: "--charger <id>",
          help: "issue an OCPP charger's client certificate (CN = its id, security profile 3) under the CA, and nothing else",
        },
      },
      examples: ["evnet certs --hosts central.example.lan,10.0.0.5", "evnet certs --charger CP_042"],
    },
    async ({ switches }) => {
      if (switches.charger) {
        const { makeChargerCertificate } = await import("../../certs/make.ts");
        for (const file of await makeChargerCertificate(switches.dir, switches.charger))
          console.log(`${file.what}  ${file.path}  (${file.action}${file.private ? ", owner-only 0600" : ""})`);
        console.log(`install both on the charger with ${switches.dir}/ca.pem (to trust the gateway); its OCPP id must be ${switches.charger}`);
        return;
      }
      const { makeCerts } = await import("../../certs/make.ts");
      const hosts = (switches.hosts ?? "")
        .split(",")
        .map((h) => h.trim())
        .filter(Boolean);
      const report = await makeCerts({ dir: switches.dir, hosts, force: switches.force });
      const width = Math.max(...report.files.map((f) => f.what.length));
      for (const file of report.files) console.log(`${file.what.padEnd(width)}  ${file.path}  (${file.action}${file.private ? ", owner-only 0600" : ""})`);
      console.log(`server certificate valid for: ${report.hosts.join(", ")}`);
      console.log("clients verify servers with the CA certificate: give them its path (EVNET_CA_FILE); keep the private keys where they are");
    },
  );
}
