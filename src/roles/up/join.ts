/**
 * How other terminals join a network `evnet up` runs. On Kafka they can: `up` writes what a
 * role needs (the API's and Registry's URLs, the brokers, the topic prefix, the CA, the
 * enrollment token) into `<data folder>/join.env`, owner-only, and prints the commands that use
 * it. On the in-process bus nothing outside the process can reach the bus, so they can only read
 * (through the API); `up` says so and how to run it on Kafka instead.
 */
import { chmodSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { simulatedCps } from "./fleet.ts";

export interface JoinSettings {
  apiUrl: string;
  registryUrl: string;
  brokers?: string[];
  topicPrefix: string;
  caFile?: string;
  enrollmentToken: string;
  /** How the brokers are reached (TLS, its CA, plaintext accepted): the same for every role. */
  kafkaTransport?: Record<string, string>;
  /** The bus asks each role to log in: joiners need principals of their own (never up's). */
  kafkaLogin?: boolean;
}

export const JOIN_FILE = "join.env";

/** The bus settings every joining role shares with up: how the brokers are reached, not who logs in. */
export function kafkaTransportOf(config: { KAFKA_TLS?: boolean; KAFKA_TLS_CA_FILE?: string; KAFKA_ALLOW_PLAINTEXT?: boolean }): Record<string, string> {
  return {
    ...(config.KAFKA_TLS ? { KAFKA_TLS: "true" } : {}),
    ...(config.KAFKA_TLS_CA_FILE ? { KAFKA_TLS_CA_FILE: resolve(config.KAFKA_TLS_CA_FILE) } : {}),
    ...(config.KAFKA_ALLOW_PLAINTEXT ? { KAFKA_ALLOW_PLAINTEXT: "true" } : {}),
  };
}

/** Writes join.env (Kafka only: without it nothing can join); returns its path. */
export function writeJoinFile(dataDir: string, settings: JoinSettings): string | undefined {
  if (!settings.brokers?.length) return undefined;
  const file = resolve(dataDir, JOIN_FILE);
  const lines = [
    "# Settings to join the network 'evnet up' runs from this folder, while it runs (it removes this file when it stops).",
    `# From another terminal: EVNET_ENV_FILE=${file} evnet driver --id D1`,
    `API_URL=${settings.apiUrl}`,
    `REGISTRY_URL=${settings.registryUrl}`,
    `KAFKA_BROKERS=${settings.brokers.join(",")}`,
    `EVNET_TOPIC_PREFIX=${settings.topicPrefix}`,
    ...(settings.caFile ? [`EVNET_CA_FILE=${resolve(settings.caFile)}`] : []),
    ...Object.entries(settings.kafkaTransport ?? {}).map(([name, value]) => `${name}=${value}`),
    `EVNET_ENROLLMENT_TOKEN=${settings.enrollmentToken}`,
  ];
  writeFileSync(file, `${lines.join("\n")}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // it holds the enrollment token
  return file;
}

/**
 * How to run this same evnet from another terminal: the compiled binary (by name when it is on
 * the PATH), or `npx evnet` in the checkout (`checkout` says where, when that is not here).
 */
export function selfCommand(): { evnet: string; checkout?: string } {
  const compiled = !/^bun(\.exe)?$/.test(basename(process.execPath));
  if (compiled) return { evnet: Bun.which(basename(process.execPath)) === process.execPath ? basename(process.execPath) : process.execPath };
  const checkout = resolve(import.meta.dir, "../../..");
  const here = resolve(".");
  return { evnet: "npx evnet", checkout: here === checkout || here.startsWith(`${checkout}/`) ? undefined : checkout };
}

export interface UpSummary {
  dashboardUrl: string;
  /** Shown only on a terminal: a captured stdout (a log file, CI) gets where it is kept. */
  operatorToken: string;
  everywhere: boolean;
  dataDir: string;
  cps: number;
  join: JoinSettings;
  joinFile?: string;
}

/** What `evnet up` prints once the network runs. */
export function upBanner(up: UpSummary, { evnet, checkout } = selfCommand(), tty = Boolean(process.stdout.isTTY)): string {
  const reach = up.everywhere ? " (listening on every interface: use this machine's address from elsewhere)" : "";
  const token = tty
    ? `paste this operator token:\n      ${up.operatorToken}`
    : `paste the operator token, "operatorToken" in ${join(up.dataDir, "secrets.json")}`;
  const lines = [
    "",
    `  evnet is up. Dashboard: ${up.dashboardUrl}${reach}`,
    `  Operator sign-in: press "Sign in" on the dashboard and ${token}`,
    "  (the same token is the admin API's bearer token)",
  ];
  if (up.joinFile) {
    const next = simulatedCps(up.cps + 1).at(-1)!;
    lines.push(
      `  Join it from another terminal on this machine${checkout ? `, in ${checkout}` : ""} (${up.joinFile} holds API_URL=${up.join.apiUrl},`,
      `  REGISTRY_URL=${up.join.registryUrl}, KAFKA_BROKERS=${up.join.brokers!.join(",")}, EVNET_TOPIC_PREFIX=${up.join.topicPrefix}${up.join.caFile ? `, EVNET_CA_FILE` : ""} and the enrollment token):`,
      `    export EVNET_ENV_FILE=${up.joinFile}`,
      `    ${evnet} driver --id D1`,
      `    ${evnet} cp-engine --id ${next.cpId}`,
      `    ${evnet} cp-monitor --id ${next.cpId} --location ${next.location} --register --authenticate`,
      ...(up.join.kafkaLogin ? ["  The bus asks every role to log in: give each its own KAFKA_SASL_* ('evnet kafka-acls' lists the principals)."] : []),
    );
  } else {
    const ca = up.join.caFile ? ` --ca-file ${resolve(up.join.caFile)}` : "";
    lines.push(
      `  Other terminals${checkout ? ` (in ${checkout})` : ""} can read it: ${evnet} driver --id D1 --list --api-url ${up.join.apiUrl}${ca}`,
      `  To charge from other terminals too, run it on Kafka: ${evnet} up --kafka-brokers host:port (its bus is in-process now)`,
    );
  }
  lines.push("  Ctrl-C stops everything.", "");
  return lines.join("\n");
}
