/**
 * A whole charging network as separate OS processes against the real PostgreSQL and Kafka:
 * Registry and API (HTTPS, test certificates), one or more Centrals, and per CP an engine and
 * a monitor that registers and authenticates itself; drivers are started by the tests. A raw
 * reader of the CP topics lets tests decrypt what the engines really sent (with each CP's key
 * from its monitor's state file) and compare it with the tickets.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import type { BusMessage, Subscription } from "../../src/bus/bus.ts";
import { type GroupDescription, KafkaBus } from "../../src/bus/kafka.ts";
import type { CpEvent, TicketMessage } from "../../src/bus/messages.ts";
import { busOptionsFrom } from "../../src/bus/open.ts";
import { allTopics, type Topics, topicsFor } from "../../src/bus/topics.ts";
import { busSettings } from "../../src/config/common.ts";
import { loadConfig } from "../../src/config/env.ts";
import { schemaOf } from "../../src/config/settings.ts";
import { open, UNCHECKED_SEQUENCES } from "../../src/crypto/envelope.ts";
import { parseMasterKey } from "../../src/crypto/keys.ts";
import { isProbe } from "../../src/roles/central/probes.ts";
import { channelKeyOf, loadIdentity } from "../../src/roles/cp-monitor/enrollment.ts";
import { groupName } from "../../src/roles/group-names.ts";
import { callJson, ENROLLMENT_TOKEN, makeTestCerts, newMasterKeyHex, OPERATOR_TOKEN, SERVICE_TOKEN, type TestCerts } from "./identity.ts";
import { auditMeters, keyRing, type MeterAudit, ticketsOnTheWire } from "./meter-audit.ts";
import { type RoleProcess, spawnRole, stopRoles } from "./processes.ts";
import { createTestDatabase, kafkaBrokers, type TestDatabase, testTopicPrefix } from "./services.ts";
import { waitFor } from "./wait.ts";

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const urlIn = (line: string) => /url=(\S+)/.exec(line)![1]!;

export interface ChargingPointProcesses {
  cpId: string;
  port: number;
  engine: RoleProcess;
  monitor: RoleProcess;
}

/** Who logs in to Kafka: a role, and for CPs and drivers which one. */
export type KafkaLogin = (role: "api" | "central" | "cp" | "driver" | "reader", id?: string) => Record<string, string>;

export interface NetworkOptions {
  /** Brokers to use instead of the shared test broker (the broker-restart test has its own). */
  brokers?: string[];
  heartbeatS?: number;
  /** On a secured broker, each role's KAFKA_TLS_CA_FILE and KAFKA_SASL_* ("reader": the raw reader's). */
  kafkaLogin?: KafkaLogin;
  /** More settings for the API process. */
  apiEnv?: Record<string, string>;
  /** A database to use instead of a new one on the shared test server (a test's own PostgreSQL). */
  database?: TestDatabase;
  /** How long a silent group member keeps its partitions (KAFKA_SESSION_TIMEOUT_MS; default 6 s). */
  sessionTimeoutMs?: number;
}

export class TestNetwork {
  readonly prefix = testTopicPrefix();
  readonly topics: Topics = topicsFor(this.prefix);
  readonly masterKey = newMasterKeyHex();
  readonly roles: RoleProcess[] = [];
  readonly wire: BusMessage[] = [];
  /** Every update Central sent drivers (tickets included), as a reader of the topic sees them. */
  readonly updates: BusMessage[] = [];
  certs!: TestCerts;
  database!: TestDatabase;
  sql!: postgres.Sql;
  dataDir!: string;
  registryUrl!: string;
  apiUrl!: string;
  private raw!: KafkaBus;
  private rawReader?: Subscription;
  private updatesReader?: Subscription;
  readonly brokers: string[];
  readonly heartbeatS: number;
  private readonly kafkaLogin: KafkaLogin;
  private readonly apiEnv: Record<string, string>;

  constructor(private readonly options: NetworkOptions = {}) {
    this.brokers = options.brokers ?? kafkaBrokers();
    this.heartbeatS = options.heartbeatS ?? 1;
    this.kafkaLogin = options.kafkaLogin ?? (() => ({}));
    this.apiEnv = options.apiEnv ?? {};
  }

  busEnv(role: Parameters<KafkaLogin>[0], id?: string): Record<string, string> {
    return {
      KAFKA_BROKERS: this.brokers.join(","),
      EVNET_TOPIC_PREFIX: this.prefix,
      KAFKA_SESSION_TIMEOUT_MS: String(this.options.sessionTimeoutMs ?? 6000),
      KAFKA_HEARTBEAT_INTERVAL_MS: String(Math.min(500, Math.floor((this.options.sessionTimeoutMs ?? 6000) / 3))),
      ...this.kafkaLogin(role, id),
    };
  }

  /** Registry, API and the raw reader; Centrals and CPs are started by the caller. */
  async start(): Promise<void> {
    this.certs = await makeTestCerts();
    this.database = this.options.database ?? (await createTestDatabase());
    this.sql = postgres(this.database.url, { max: 3, onnotice: () => {} });
    this.dataDir = mkdtempSync(join(tmpdir(), "evnet-network-"));
    this.raw = new KafkaBus({
      brokers: this.brokers,
      clientId: "network-raw-reader",
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 500,
      security: busOptionsFrom(loadConfig(schemaOf(busSettings), {}, this.busEnv("reader")), "network-raw-reader").security,
    });
    await this.raw.ensureTopics(allTopics(this.topics));
    this.rawReader = await this.raw.subscribe({ topics: [this.topics.cpEvents], groupId: `${this.prefix}-raw`, from: "earliest" }, async (batch) => {
      this.wire.push(...batch);
    });
    this.updatesReader = await this.raw.subscribe(
      { topics: [this.topics.driverUpdates], groupId: `${this.prefix}-raw-updates`, from: "earliest" },
      async (batch) => {
        this.updates.push(...batch);
      },
    );
    const registry = this.spawn("registry", ["registry"], {
      DATABASE_URL: this.database.url,
      REGISTRY_PORT: "0",
      REGISTRY_TLS_CERT: this.certs.certFile,
      REGISTRY_TLS_KEY: this.certs.keyFile,
      REGISTRY_SIGNING_KEY: this.certs.signingKeyFile,
      EVNET_ENROLLMENT_TOKEN: ENROLLMENT_TOKEN,
    });
    this.registryUrl = urlIn(await registry.waitForLine(/listening/, 60_000));
    const api = this.spawn("api", ["api"], {
      DATABASE_URL: this.database.url,
      ...this.busEnv("api"),
      API_PORT: "0",
      API_TLS_CERT: this.certs.certFile,
      API_TLS_KEY: this.certs.keyFile,
      REGISTRY_PUBLIC_KEY: this.certs.publicKeyFile,
      EVNET_CONTROL_SIGNING_KEY: this.certs.controlKeyFile,
      EVNET_CONTROL_PUBLIC_KEY: this.certs.controlPublicKeyFile,
      EVNET_MASTER_KEY: this.masterKey,
      EVNET_OPERATOR_TOKEN: OPERATOR_TOKEN,
      EVNET_SERVICE_TOKEN: SERVICE_TOKEN,
      ...this.apiEnv,
      EVNET_ENROLLMENT_TOKEN: ENROLLMENT_TOKEN,
    });
    this.apiUrl = urlIn(await api.waitForLine(/listening/, 60_000));
  }

  spawn(name: string, args: string[], env: Record<string, string | undefined>): RoleProcess {
    const role = spawnRole(name, args, env);
    this.roles.push(role);
    return role;
  }

  centralEnv(instance: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      DATABASE_URL: this.database.url,
      ...this.busEnv("central"),
      EVNET_MASTER_KEY: this.masterKey,
      EVNET_CONTROL_PUBLIC_KEY: this.certs.controlPublicKeyFile,
      EVNET_CONTROL_SIGNING_KEY: this.certs.controlKeyFile,
      CENTRAL_INSTANCE_ID: instance,
      MONITOR_TO_CENTRAL_HEARTBEAT_INTERVAL: String(this.heartbeatS),
      CENTRAL_SESSION_END_GRACE: "3",
      ...extra,
    };
  }

  async startCentral(instance = "central-1", extra: Record<string, string> = {}): Promise<RoleProcess> {
    const central = this.spawn(instance, ["central", "--no-menu"], this.centralEnv(instance, extra));
    await central.waitForLine(/central ready/, 60_000);
    return central;
  }

  async startEngine(cpId: string, port: number, extraArgs: string[] = []): Promise<RoleProcess> {
    const engine = this.spawn(`engine ${cpId}`, ["cp-engine", "--no-menu", "--id", cpId, "--port", String(port), ...extraArgs], this.busEnv("cp", cpId));
    await engine.waitForLine(/engine listening/, 60_000);
    return engine;
  }

  async startMonitor(cpId: string, location: string, port: number, extra: Record<string, string> = {}): Promise<RoleProcess> {
    const monitor = this.spawn(
      `monitor ${cpId}`,
      ["cp-monitor", "--no-menu", "--id", cpId, "--location", location, "--engine", `127.0.0.1:${port}`, "--register", "--authenticate"],
      {
        ...this.busEnv("cp", cpId),
        REGISTRY_URL: this.registryUrl,
        API_URL: this.apiUrl,
        EVNET_CA_FILE: this.certs.caFile,
        EVNET_ENROLLMENT_TOKEN: ENROLLMENT_TOKEN,
        EVNET_DATA_DIR: this.dataDir,
        MONITOR_TO_CENTRAL_HEARTBEAT_INTERVAL: String(this.heartbeatS),
        KEY_CHECK_INTERVAL: "2",
        ...extra,
      },
    );
    await monitor.waitForLine(/monitor supervising/, 60_000);
    return monitor;
  }

  /** An engine and its monitor (which registers and authenticates the CP); waits for ACTIVE. */
  async startCp(cpId: string, location = "Madrid", engineArgs: string[] = [], monitorEnv: Record<string, string> = {}): Promise<ChargingPointProcesses> {
    const port = await freePort();
    const engine = await this.startEngine(cpId, port, engineArgs);
    const monitor = await this.startMonitor(cpId, location, port, monitorEnv);
    await this.waitForStatus(cpId, "ACTIVE");
    return { cpId, port, engine, monitor };
  }

  /** Credentials of the drivers registered by `registerDriver`, which their app is then given. */
  private readonly driverCredentials = new Map<string, string>();

  /** Registers a driver account through the API (enrollment token), as a driver's app does the first time. */
  async registerDriver(driverId: string): Promise<void> {
    const reply = await callJson(this.certs.fetch, "POST", `${this.apiUrl}/ev/central/drivers`, { token: ENROLLMENT_TOKEN, body: { driver_id: driverId } });
    if (reply.status >= 300) throw new Error(`registering driver ${driverId}: ${reply.status} ${reply.text}`);
    this.driverCredentials.set(driverId, reply.body.driver_credential);
  }

  /** A driver's app; the first run of a driver id registers it (enrollment token) and keeps its credential in the network's folder. */
  driver(driverId: string, args: string[], extra: Record<string, string> = {}): RoleProcess {
    const credential = this.driverCredentials.get(driverId);
    return this.spawn(`driver ${driverId}`, ["driver", "--no-menu", "--id", driverId, "--json", ...args], {
      ...this.busEnv("driver", driverId),
      API_URL: this.apiUrl,
      EVNET_CA_FILE: this.certs.caFile,
      EVNET_ENROLLMENT_TOKEN: ENROLLMENT_TOKEN,
      EVNET_DATA_DIR: join(this.dataDir, "drivers"),
      DRIVER_PAUSE_SECONDS: "1",
      ...(credential && { DRIVER_CREDENTIAL: credential }),
      ...extra,
    });
  }

  async status(cpId: string): Promise<string | undefined> {
    return (await this.sql`select status from charging_points where cp_id = ${cpId}`)[0]?.status;
  }

  async waitForStatus(cpId: string, status: string, timeoutMs = 60_000): Promise<void> {
    await waitFor(async () => (await this.status(cpId)) === status, `${cpId} to be ${status}`, { timeoutMs, everyMs: 200 });
  }

  async session(sessionId: string) {
    return (await this.sql`select * from charging_sessions where session_id = ${sessionId}`)[0];
  }

  async openSessionAt(cpId: string) {
    return (await this.sql`select * from charging_sessions where cp_id = ${cpId} and status = 'IN_PROGRESS'`)[0];
  }

  /** Waits for a session in progress at the CP with some energy billed, and returns its id. */
  async billingSessionAt(cpId: string, timeoutMs = 60_000): Promise<string> {
    let sessionId = "";
    await waitFor(
      async () => {
        const open = await this.openSessionAt(cpId);
        sessionId = open && open.energy_kwh > 0 ? open.session_id : "";
        return sessionId !== "";
      },
      `a session billing at ${cpId}`,
      { timeoutMs },
    );
    return sessionId;
  }

  /**
   * The partition each key lands on, as the real broker and partitioner place it: one message
   * per key to a scratch topic with the same partition count, read back.
   */
  async partitionsOf(keys: string[]): Promise<Map<string, number>> {
    const topic = `${this.prefix}.scratch`;
    await this.raw.ensureTopics([topic]);
    const seen = new Map<string, number>();
    const sub = await this.raw.subscribe({ topics: [topic], groupId: `${this.prefix}-scratch`, from: "earliest" }, async (batch) => {
      for (const m of batch) seen.set(m.key, m.partition!);
    });
    await this.raw.publish(
      topic,
      keys.map((key) => ({ key, value: "?" })),
    );
    await waitFor(() => seen.size === keys.length, "the scratch messages to come back", { timeoutMs: 30_000 });
    await sub.close();
    return seen;
  }

  /** Decrypts the engine's messages for a session, in the order they were sent. */
  async engineReadings(cpId: string, sessionId: string): Promise<CpEvent[]> {
    const key = channelKeyOf(loadIdentity(this.dataDir, cpId));
    if (!key) return [];
    const out: CpEvent[] = [];
    for (const m of this.wire.filter((w) => w.key === cpId && !isProbe(w))) {
      try {
        const opened = await open<CpEvent>(
          m.value,
          (kid) => (kid === key.keyId ? { key: key.key, subject: `cp:${cpId}`, revoked: false } : undefined),
          UNCHECKED_SEQUENCES,
          `cp:${cpId}`,
        );
        if (opened.header.sender === `engine:${cpId}` && "session_id" in opened.payload && opened.payload.session_id === sessionId) out.push(opened.payload);
      } catch {
        // another key, or the monitor's
      }
    }
    return out;
  }

  /** The consumer group the Centrals share, as the broker describes it. */
  centralGroup(): Promise<GroupDescription> {
    return this.raw.describeGroup(groupName(this.prefix, "central"));
  }

  /** Every session's tickets compared with what its engine metered (meter-audit.ts). */
  /** The tickets Central sent drivers for a session, as they went over the bus (opened with the drivers' keys). */
  async ticketsSent(sessionId: string): Promise<TicketMessage[]> {
    return (await ticketsOnTheWire(this.updates, await keyRing(this.sql, parseMasterKey(this.masterKey)))).get(sessionId) ?? [];
  }

  async auditMeters(): Promise<MeterAudit> {
    return auditMeters(this.sql, this.wire, this.updates, await keyRing(this.sql, parseMasterKey(this.masterKey)));
  }

  async stop(): Promise<void> {
    await stopRoles(this.roles);
    await this.updatesReader?.close();
    await this.rawReader?.close();
    await this.raw?.close();
    await this.sql?.end();
    await this.database?.drop();
    this.certs?.remove();
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** The JSON lines a `--json` driver printed on stdout (tickets, refusals, problems). */
export function jsonLines(role: RoleProcess): any[] {
  return role.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}
