/**
 * A role's Kafka security settings: TLS and SASL read from the config (passwords from a file),
 * wrong combinations refused with the variable's name, and plaintext refused for a broker that
 * is not on this machine unless the operator accepts it.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkKafkaTransport, isLoopbackBroker, kafkaSecurityFrom } from "../../src/bus/kafka-security.ts";
import { ConfigError } from "../../src/config/env.ts";
import { createLogger, setLogSink } from "../../src/lib/log.ts";

const log = createLogger("test");
const scram = { tls: { ca: "PEM" }, sasl: { mechanism: "SCRAM-SHA-512" as const, username: "evnet-cp", password: "secret" } };

describe("Kafka security settings", () => {
  test("reads the password from a file and the CA for TLS", () => {
    const dir = mkdtempSync(join(tmpdir(), "evnet-kafka-sec-"));
    try {
      writeFileSync(join(dir, "pw"), "s3cret\n");
      writeFileSync(join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\n");
      const security = kafkaSecurityFrom({
        KAFKA_TLS_CA_FILE: join(dir, "ca.pem"),
        KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
        KAFKA_SASL_USERNAME: "evnet-api",
        KAFKA_SASL_PASSWORD_FILE: join(dir, "pw"),
      });
      expect(security.sasl).toEqual({ mechanism: "SCRAM-SHA-512", username: "evnet-api", password: "s3cret" });
      expect(security.tls?.ca).toStartWith("-----BEGIN CERTIFICATE-----");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("names the variable of a wrong combination", () => {
    expect(() => kafkaSecurityFrom({ KAFKA_SASL_USERNAME: "x" })).toThrow(/KAFKA_SASL_MECHANISM: is required/);
    expect(() => kafkaSecurityFrom({ KAFKA_SASL_MECHANISM: "SCRAM-SHA-256" })).toThrow(/KAFKA_SASL_USERNAME: is required/);
    expect(() => kafkaSecurityFrom({ KAFKA_SASL_MECHANISM: "SCRAM-SHA-256", KAFKA_SASL_USERNAME: "x" })).toThrow(/KAFKA_SASL_PASSWORD: is required/);
    expect(() => kafkaSecurityFrom({ KAFKA_SASL_MECHANISM: "PLAIN", KAFKA_SASL_USERNAME: "x", KAFKA_SASL_PASSWORD: "y" })).toThrow(/PLAIN .* only with TLS/);
    expect(() => kafkaSecurityFrom({ KAFKA_SASL_MECHANISM: "SCRAM-SHA-512", KAFKA_SASL_USERNAME: "x", KAFKA_SASL_PASSWORD_FILE: "/nonexistent/pw" })).toThrow(
      /KAFKA_SASL_PASSWORD_FILE: cannot read \/nonexistent\/pw \(ENOENT\)/,
    );
    expect(() => kafkaSecurityFrom({ KAFKA_TLS_CA_FILE: "/nonexistent/ca.pem" })).toThrow(ConfigError);
  });

  test("counts only this machine's addresses as loopback", () => {
    for (const b of ["127.0.0.1:9092", "localhost:9092", "127.1.2.3:1", "LOCALHOST:9092"]) expect(isLoopbackBroker(b)).toBe(true);
    for (const b of ["127.evil.example:9092", "10.0.0.5:9092", "kafka:9092", "localhost.example:9092", "128.0.0.1:9092"])
      expect(isLoopbackBroker(b)).toBe(false);
  });

  test("refuses plaintext to a broker elsewhere unless allowed, and warns on this machine", () => {
    const lines: string[] = [];
    setLogSink((line) => lines.push(line));
    try {
      expect(() => checkKafkaTransport(["kafka.example:9093"], {}, log)).toThrow(/refusing to use Kafka at kafka.example:9093 without TLS or SASL/);
      expect(() => checkKafkaTransport(["kafka.example:9093"], { tls: {} }, log)).toThrow(/without SASL/);
      checkKafkaTransport(["kafka.example:9093"], scram, log);
      expect(lines).toEqual([]);
      checkKafkaTransport(["kafka.example:9093"], { allowPlaintext: true }, log);
      expect(lines.at(-1)).toContain("KAFKA_ALLOW_PLAINTEXT=true");
      checkKafkaTransport(["127.0.0.1:9092"], {}, log);
      expect(lines.at(-1)).toContain("fine for development on this machine only");
    } finally {
      setLogSink((line, level) => (level === "error" || level === "warn" ? process.stderr : process.stdout).write(`${line}\n`));
    }
  });
});
