import type { CAC } from "cac";

interface CertsFlags {
  dir: string;
  hosts?: string;
  force?: boolean;
  charger?: string;
}

export function register(cli: CAC): void {
  cli
    .command("certs", "Make a local CA and server certificates into certs/")
    .option("--dir <dir>", "folder to write them to", { default: "certs" })
    .option("--hosts <list>", "extra host names or IPs the server certificate is for, comma-separated (always: localhost, 127.0.0.1, ::1)")
    .option("--force", "make a new CA even if one exists (clients then need the new ca.pem)")
    .option("--charger <id>", "issue an OCPP charger's client certificate (CN = its id, security profile 3) under the CA, and nothing else")
    .example("evnet certs --hosts central.example.lan,10.0.0.5")
    .example("evnet certs --charger CP_042")
    .action(async (flags: CertsFlags) => {
      if (flags.charger) {
        const { makeChargerCertificate } = await import("../../certs/make.ts");
        for (const file of await makeChargerCertificate(String(flags.dir), String(flags.charger)))
          console.log(`${file.what}  ${file.path}  (${file.action}${file.private ? ", owner-only 0600" : ""})`);
        console.log(`install both on the charger with ${flags.dir}/ca.pem (to trust the gateway); its OCPP id must be ${flags.charger}`);
        return;
      }
      const { makeCerts } = await import("../../certs/make.ts");
      const hosts = (flags.hosts ?? "")
        .split(",")
        .map((h) => h.trim())
        .filter(Boolean);
      const report = await makeCerts({ dir: String(flags.dir), hosts, force: Boolean(flags.force) });
      const width = Math.max(...report.files.map((f) => f.what.length));
      for (const file of report.files) console.log(`${file.what.padEnd(width)}  ${file.path}  (${file.action}${file.private ? ", owner-only 0600" : ""})`);
      console.log(`server certificate valid for: ${report.hosts.join(", ")}`);
      console.log("clients verify servers with the CA certificate: give them its path (EVNET_CA_FILE); keep the private keys where they are");
    });
}
