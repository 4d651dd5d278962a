/**
 * `evnet ocpp-charger`, the simulated charger, run as a user runs it against a real gateway over
 * TLS: security profile 2 (wss:// and its password, trusting the operator's CA) with OCPP 1.6,
 * profile 3 (its client certificate from `evnet certs --charger`) with OCPP 2.0.1; a refusal that
 * waiting cannot fix ends it with the reason; a gateway that is not there yet is waited for, as
 * real chargers do.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chargerCertificateFiles, makeChargerCertificate } from "../../src/certs/make.ts";
import { freePort } from "../support/network-processes.ts";
import { OcppNetwork } from "../support/ocpp-network.ts";
import type { RoleProcess } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

const net = new OcppNetwork();
let tlsUrl: string;
const pw: Record<string, string> = {};

beforeAll(async () => {
  await net.start();
  await net.startCentral();
  const tls = await net.startGateway("gateway-tls", { OCPP_TLS_CERT: net.certs.certFile, OCPP_TLS_KEY: net.certs.keyFile });
  tlsUrl = tls.url.replace("127.0.0.1", "localhost");
  pw.SIM2 = await net.registerCharger("SIM2", { profile: 2 });
  pw.SIM1 = await net.registerCharger("SIM1", { profile: 1 });
  await net.registerCharger("SIM3", { profile: 3 });
  await makeChargerCertificate(net.certs.dir, "SIM3");
}, 180_000);

afterAll(async () => {
  await net.stop();
});

function charger(id: string, args: string[]): RoleProcess {
  return net.spawn(`charger ${id}`, ["ocpp-charger", "--no-menu", "--id", id, ...args], { OCPP_METER_INTERVAL: "1" });
}

describe("evnet ocpp-charger over TLS", () => {
  test("profile 2: wss://, its password, the operator's CA; OCPP 1.6", async () => {
    const sim = charger("SIM2", ["--url", tlsUrl, "--ocpp", "1.6", "--password", pw.SIM2!, "--ca-file", net.certs.caFile]);
    await sim.waitForLine(/booted .*status=Accepted/, 30_000);
    await net.waitForStatus("SIM2", "ACTIVE");
    const row = async () =>
      (await net.sql`select c.protocol_version, c.vendor, o.subprotocol from charging_points c join ocpp_chargers o using (cp_id) where cp_id = 'SIM2'`)[0]!;
    // What it said at boot reaches Central as its own event, which may come after the state change.
    await waitFor(async () => (await row()).vendor !== null, "the boot info to reach Central");
    const booted = await row();
    expect([booted.protocol_version, booted.vendor, booted.subprotocol]).toEqual(["1.6", "evnet", "ocpp1.6"]);
    await sim.stop();
  });

  test("profile 3: its client certificate (CN = its id) and no password; OCPP 2.0.1", async () => {
    const files = chargerCertificateFiles(net.certs.dir, "SIM3");
    const sim = charger("SIM3", ["--url", tlsUrl, "--ocpp", "2.0.1", "--cert", files.cert, "--key", files.key, "--ca-file", net.certs.caFile]);
    await sim.waitForLine(/booted .*status=Accepted/, 30_000);
    await net.waitForStatus("SIM3", "ACTIVE");
    const audit = await net.sql`select details from audit_events where action = 'authenticate' and resource = 'cp/SIM3' and outcome = 'success'`;
    expect(audit[0]?.details).toMatchObject({ via: "ocpp gateway", proof: "client_certificate" });
    await sim.stop();
  });

  test("without its certificate a profile 3 charger is refused, and says why instead of retrying forever", async () => {
    const sim = charger("SIM3", ["--url", tlsUrl, "--ocpp", "2.0.1", "--password", "not-a-certificate-0123456789", "--ca-file", net.certs.caFile]);
    expect(await sim.waitForLine(/refused SIM3 \(401\)/, 30_000)).toContain("wrong password or client certificate");
    await waitFor(() => sim.proc.exitCode !== null, "the charger to exit");
    expect(sim.proc.exitCode).not.toBe(0);
  });

  test("a gateway that is not listening yet is waited for, with back-off, and joined when it comes", async () => {
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}/ocpp`;
    const sim = charger("SIM1", ["--url", url, "--ocpp", "1.6", "--password", pw.SIM1!]);
    await sim.waitForLine(/could not connect to the central system; trying again/, 30_000);
    await net.startGateway("gateway-late", { OCPP_PORT: String(port) });
    await sim.waitForLine(/booted .*status=Accepted/, 60_000);
    await net.waitForStatus("SIM1", "ACTIVE");
    await sim.stop();
  });
});
