/**
 * Fuzzes the API's whole OpenAPI surface (GET /openapi.json) with schemathesis: valid and
 * invalid queries, paths and bodies for every operation, once with no token, once with a wrong
 * one, and once with each token the API takes (operator, service, enrollment, OCPP gateway),
 * against an API on a fresh database seeded with CPs, a driver, sessions, weather and audit
 * events. The only check is the one that matters for
 * robustness: no answer is a 5xx. Prints schemathesis's summary per run and exits non-zero if
 * any run found one. Run it with `bash scripts/fuzz-api.sh` (which brings the services and
 * schemathesis); extra arguments go to `st run` (e.g. `--max-examples 20`, `--seed 1`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureSigningKeys } from "../src/certs/signing-keys.ts";
import { startTestApi, TEST_OPERATOR_TOKEN, TEST_SERVICE_TOKEN } from "../tests/support/api-server.ts";
import { finishSession, seedAudit, seedChargingPoint, seedDriver, seedSession, seedWeather } from "../tests/support/seed.ts";

const st = process.env.SCHEMATHESIS ?? "st";
const extra = process.argv.slice(2);
/** The event stream never ends: a request to it would only time out (tests/integration/api-live.test.ts covers it). */
const ENROLLMENT_TOKEN = "enrollment-token-for-the-fuzzer";
const GATEWAY_TOKEN = "gateway-token-for-the-fuzzer";
const ENDLESS = "^/ev/central/events/stream$";

// Every part configured (CP authentication, drivers' enrollment, OCPP gateways), so that no
// operation answers 503 for want of a setting; and no brake on this machine's address, so that
// the fuzzer reaches the handlers.
const keysDir = mkdtempSync(join(tmpdir(), "evnet-fuzz-keys-"));
const registryKeys = await ensureSigningKeys(keysDir);
const api = await startTestApi({
  REGISTRY_PUBLIC_KEY: registryKeys.publicKeyFile,
  EVNET_ENROLLMENT_TOKEN: ENROLLMENT_TOKEN,
  EVNET_GATEWAY_TOKEN: GATEWAY_TOKEN,
  EVNET_AUTH_FAILURES_PER_MINUTE: "100000000",
});
const db = api.seed.db;
await seedChargingPoint(db, { cpId: "CP_001", location: "Madrid", status: "ACTIVE" });
await seedChargingPoint(db, { cpId: "CP_002", location: "Sevilla", status: "ACTIVE" });
await seedDriver(db, "D1");
await seedWeather(db, "Madrid", 14);
await seedSession(db, { sessionId: "S1", cpId: "CP_001", driverId: "D1" });
await finishSession(db, "S1");
await seedSession(db, { sessionId: "S2", cpId: "CP_002", driverId: "D1" });
for (const action of ["set_state", "authenticate"]) await seedAudit(db, { action, resource: "cp/CP_001" });

const runs: [string, string[]][] = [
  ["no token", []],
  ["a wrong token", ["-H", "Authorization: Bearer not-a-token-of-this-network"]],
  ["operator token", ["-H", `Authorization: Bearer ${TEST_OPERATOR_TOKEN}`]],
  ["service token", ["-H", `Authorization: Bearer ${TEST_SERVICE_TOKEN}`]],
  ["enrollment token", ["-H", `Authorization: Bearer ${ENROLLMENT_TOKEN}`]],
  ["OCPP gateway token", ["-H", `Authorization: Bearer ${GATEWAY_TOKEN}`]],
];
let failed = 0;
try {
  for (const [name, auth] of runs) {
    console.log(`\n== schemathesis, ${name}`);
    const proc = Bun.spawn(
      [
        st,
        "run",
        `${api.url}/openapi.json`,
        "--checks",
        "not_a_server_error",
        "--exclude-path-regex",
        ENDLESS,
        "--request-timeout",
        "10",
        // One worker: hypothesis's lambda descriptions call ast.parse, which is not thread-safe on Python 3.11.
        "--workers",
        "1",
        "--suppress-health-check",
        "all",
        "--no-color",
        ...auth,
        ...extra,
      ],
      { stdout: "inherit", stderr: "inherit" },
    );
    const code = await proc.exited;
    console.log(`== ${name}: schemathesis exited ${code}`);
    if (code !== 0) failed++;
  }
} finally {
  await api.stop();
  rmSync(keysDir, { recursive: true, force: true });
}
console.log(failed === 0 ? "\nfuzz: no 5xx in any run" : `\nfuzz: ${failed} run(s) found a 5xx or could not run (see above)`);
process.exit(failed === 0 ? 0 : 1);
