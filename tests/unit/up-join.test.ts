/** What `evnet up` writes and prints for other terminals, on a secured bus too. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { kafkaTransportOf, upBanner, writeJoinFile } from "../../src/roles/up/join.ts";

const dir = mkdtempSync(join(tmpdir(), "evnet-join-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const up0 = { dashboardUrl: "http://127.0.0.1:8000/", everywhere: false, operatorToken: "operator-token-0123" };
const join0 = { apiUrl: "http://127.0.0.1:8000", registryUrl: "http://127.0.0.1:41000", topicPrefix: "evnet", enrollmentToken: "enrollment-token-0123" };

describe("joining evnet up", () => {
  test("on the in-process bus there is no join file: nothing outside the process can reach that bus", () => {
    expect(writeJoinFile(dir, join0)).toBeUndefined();
    const banner = upBanner({ ...up0, dataDir: dir, cps: 5, join: join0 }, { evnet: "evnet" }, false);
    expect(banner).toContain("Other terminals can read it: evnet driver --id D1 --list --api-url http://127.0.0.1:8000");
    expect(banner).toContain(`paste the operator token, "operatorToken" in ${join(dir, "secrets.json")}`);
    expect(banner).not.toContain("operator-token-0123"); // not on a captured stdout
  });

  test("on a secured bus the file says how to reach the brokers, never up's own login, and the banner says each role logs in", () => {
    const transport = kafkaTransportOf({ KAFKA_TLS: true, KAFKA_TLS_CA_FILE: "certs/ca.pem", KAFKA_ALLOW_PLAINTEXT: false });
    expect(transport).toEqual({ KAFKA_TLS: "true", KAFKA_TLS_CA_FILE: resolve("certs/ca.pem") });
    const settings = { ...join0, brokers: ["kafka.lan:9093"], kafkaTransport: transport, kafkaLogin: true };
    const file = writeJoinFile(dir, settings)!;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, "utf8");
    expect(text).toContain("KAFKA_BROKERS=kafka.lan:9093\n");
    expect(text).toContain(`KAFKA_TLS_CA_FILE=${resolve("certs/ca.pem")}\n`);
    expect(text).not.toContain("KAFKA_SASL");
    const banner = upBanner({ ...up0, dataDir: dir, cps: 5, join: settings, joinFile: file }, { evnet: "evnet" }, false);
    expect(banner).toContain(`    export EVNET_ENV_FILE=${file}\n    evnet driver --id D1\n    evnet cp-engine --id CP_006\n`);
    expect(banner).toContain("give each its own KAFKA_SASL_* ('evnet kafka-acls' lists the principals)");
  });
});
