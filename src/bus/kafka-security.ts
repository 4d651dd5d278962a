/**
 * How a role protects its Kafka connections: TLS (the brokers' certificates checked against a
 * CA, never switched off) and SASL (this role's own principal, SCRAM preferred). The broker then
 * knows who each client is, and its ACLs (`evnet kafka-acls`) say what each may read and write.
 *
 * Plaintext is for development on one machine: a role refuses to talk to a broker elsewhere
 * without both TLS and SASL, unless KAFKA_ALLOW_PLAINTEXT says the operator accepts it (a warning
 * in a log nobody reads would leave the bus open to anyone on the network).
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { ConfigError } from "../config/env.ts";
import type { Logger } from "../lib/log.ts";

export type SaslMechanism = "SCRAM-SHA-512" | "SCRAM-SHA-256" | "PLAIN";

export interface KafkaSecurity {
  /** Connect over TLS; `ca` (PEM) replaces the system's CAs when given. */
  tls?: { ca?: string };
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
  /** The operator accepts plaintext to brokers that are not on this machine. */
  allowPlaintext?: boolean;
}

/** The bus entries of a role's config that concern security (see src/config/common.ts). */
export interface KafkaSecurityConfig {
  KAFKA_TLS?: boolean;
  KAFKA_TLS_CA_FILE?: string;
  KAFKA_SASL_MECHANISM?: SaslMechanism;
  KAFKA_SASL_USERNAME?: string;
  KAFKA_SASL_PASSWORD?: string;
  KAFKA_SASL_PASSWORD_FILE?: string;
  KAFKA_ALLOW_PLAINTEXT?: boolean;
}

function readConfigFile(path: string, variable: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  ${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

const invalid = (variable: string, what: string) => new ConfigError(`invalid configuration:\n  ${variable}: ${what}`);

function saslFrom(config: KafkaSecurityConfig): KafkaSecurity["sasl"] {
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password, KAFKA_SASL_PASSWORD_FILE: file } = config;
  if (!mechanism) {
    if (username || password || file) throw invalid("KAFKA_SASL_MECHANISM", "is required with KAFKA_SASL_USERNAME (SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN)");
    return undefined;
  }
  if (!username) throw invalid("KAFKA_SASL_USERNAME", `is required with KAFKA_SASL_MECHANISM=${mechanism}`);
  if (password && file) throw invalid("KAFKA_SASL_PASSWORD", "give it or KAFKA_SASL_PASSWORD_FILE, not both");
  const secret = password ?? (file ? readConfigFile(file, "KAFKA_SASL_PASSWORD_FILE").replace(/\r?\n$/, "") : undefined);
  if (!secret) throw invalid("KAFKA_SASL_PASSWORD", `is required with KAFKA_SASL_MECHANISM=${mechanism} (or KAFKA_SASL_PASSWORD_FILE)`);
  return { mechanism, username, password: secret };
}

/** Reads the security settings (and the files they name) into what the Kafka adapter needs. */
export function kafkaSecurityFrom(config: KafkaSecurityConfig): KafkaSecurity {
  const sasl = saslFrom(config);
  const useTls = Boolean(config.KAFKA_TLS || config.KAFKA_TLS_CA_FILE);
  if (sasl?.mechanism === "PLAIN" && !useTls)
    throw invalid("KAFKA_SASL_MECHANISM", "PLAIN sends the password as it is: use it only with TLS (KAFKA_TLS_CA_FILE or KAFKA_TLS=true)");
  const tls = useTls ? { ca: config.KAFKA_TLS_CA_FILE ? readConfigFile(config.KAFKA_TLS_CA_FILE, "KAFKA_TLS_CA_FILE") : undefined } : undefined;
  return { tls, sasl, allowPlaintext: config.KAFKA_ALLOW_PLAINTEXT };
}

/** A broker address on this machine: `localhost` or a loopback IP (127.0.0.0/8, ::1). */
export function isLoopbackBroker(broker: string): boolean {
  const host = broker.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
  if (host.toLowerCase() === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return isIP(host) === 6 && (host === "::1" || host === "0:0:0:0:0:0:0:1");
}

/**
 * Refuses plaintext to brokers on other machines (unless allowed), and says once what a
 * plaintext connection means when it is allowed or stays on this machine.
 */
export function checkKafkaTransport(brokers: string[], security: KafkaSecurity, log: Logger): void {
  const missing = [security.tls ? "" : "TLS", security.sasl ? "" : "SASL"].filter(Boolean);
  if (missing.length === 0) return;
  const remote = brokers.filter((b) => !isLoopbackBroker(b));
  const without = `without ${missing.join(" or ")}`;
  if (remote.length === 0) {
    log.warn(`Kafka at ${brokers.join(",")} ${without}: fine for development on this machine only; see "Securing Kafka" in the README for a deployment`);
    return;
  }
  if (!security.allowPlaintext)
    throw new ConfigError(
      `refusing to use Kafka at ${remote.join(",")} ${without}: anyone on the network could read and write the bus. ` +
        "Set KAFKA_TLS_CA_FILE and KAFKA_SASL_MECHANISM/USERNAME/PASSWORD (see 'evnet kafka-acls'), or KAFKA_ALLOW_PLAINTEXT=true to accept the risk",
    );
  log.warn(`KAFKA_ALLOW_PLAINTEXT=true: using Kafka at ${remote.join(",")} ${without}; anyone who can reach it can read and write every topic`);
}
