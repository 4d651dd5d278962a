/**
 * What the charging-network tests share: a registered, authenticated CP as the API leaves it,
 * a stand-in CP (engine and monitor ends of the sealed channel) and stand-in drivers (accounts
 * with keys) that record what Central sends them, and small readers of the database.
 */
import { eq } from "drizzle-orm";
import type { Bus, BusMessage, Subscription } from "../../src/bus/bus.ts";
import type { CpCommand, DriverUpdate } from "../../src/bus/messages.ts";
import type { Topics } from "../../src/bus/topics.ts";
import { type CpChannel, createCpChannel } from "../../src/cp/channel.ts";
import { type ChannelKey, newChannelKey, wrapKey } from "../../src/crypto/keys.ts";
import type { Db } from "../../src/db/client.ts";
import { storeNewKey } from "../../src/db/repos/cp-keys.ts";
import { storeDriverKey } from "../../src/db/repos/driver-accounts.ts";
import { auditEvents, chargingPoints, chargingSessions, cpCredentials, drivers } from "../../src/db/schema/index.ts";
import { createDriverChannel, type DriverChannel } from "../../src/roles/driver/channel.ts";
import { publishControl } from "./control.ts";

/** Registers a CP and issues it a channel key, as the Registry and the API do. */
export async function registerAndKey(db: Db, masterKey: Uint8Array, cpId: string, opts: { location?: string; price?: number } = {}): Promise<ChannelKey> {
  await db
    .insert(chargingPoints)
    .values({ cpId, location: opts.location ?? "Madrid", pricePerKwh: opts.price ?? 0.3, currentCredentialId: `cred_${cpId}` })
    .onConflictDoNothing();
  await db
    .insert(cpCredentials)
    .values({ jti: `cred_${cpId}`, cpId, expiresAt: new Date(Date.now() + 86_400_000) })
    .onConflictDoNothing();
  const key = newChannelKey();
  await storeNewKey(db, {
    keyId: key.keyId,
    cpId,
    wrappedKey: wrapKey(masterKey, { type: "cp", id: cpId }, key.keyId, key.key),
    credentialJti: `cred_${cpId}`,
  });
  return key;
}

/** The control message the API publishes after authenticating a CP. */
export async function announceAuthenticated(bus: Bus, topics: Topics, cpId: string, key: ChannelKey): Promise<void> {
  await publishControl(bus, topics, { type: "cp_authenticated", cp_id: cpId, key_id: key.keyId, at: new Date().toISOString() });
}

/** Both ends of a CP on the bus, without the real engine and monitor processes. */
export class StandInCp {
  readonly engine: CpChannel;
  readonly monitor: CpChannel;
  readonly commands: CpCommand[] = [];
  private subscription?: Subscription;

  constructor(
    private bus: Bus,
    private topics: Topics,
    readonly cpId: string,
    key: ChannelKey,
  ) {
    this.engine = createCpChannel({ cpId, role: "engine", key });
    this.monitor = createCpChannel({ cpId, role: "monitor", key });
  }

  async listen(group: string): Promise<void> {
    this.subscription = await this.bus.subscribe({ topics: [this.topics.cpCommands], groupId: group, from: "latest" }, async (batch) => {
      for (const m of batch) {
        const opened = await this.engine.open<CpCommand>(m);
        if (opened.ok) this.commands.push(opened.payload);
      }
    });
  }

  async fromEngine(payload: object): Promise<void> {
    await this.bus.publish(this.topics.cpEvents, [this.engine.seal({ at: new Date().toISOString(), ...payload })]);
  }

  async fromMonitor(payload: object): Promise<void> {
    await this.bus.publish(this.topics.cpEvents, [this.monitor.seal({ at: new Date().toISOString(), ...payload })]);
  }

  heartbeat(intervalS = 1, engine: "OK" | "KO" = "OK"): Promise<void> {
    return this.fromMonitor({ type: "heartbeat", interval_s: intervalS, engine });
  }

  lastCommand(type: CpCommand["type"]): CpCommand | undefined {
    return this.commands.findLast((c) => c.type === type);
  }

  async close(): Promise<void> {
    await this.subscription?.close();
  }
}

/** Registers a driver account and issues it a channel key, as the API does. */
export async function registerDriverAndKey(db: Db, masterKey: Uint8Array, driverId: string): Promise<ChannelKey> {
  await db.insert(drivers).values({ driverId, credentialHash: "test", registeredAt: new Date() }).onConflictDoNothing();
  const key = newChannelKey("driver");
  await storeDriverKey(db, { keyId: key.keyId, driverId, wrappedKey: wrapKey(masterKey, { type: "driver", id: driverId }, key.keyId, key.key) });
  return key;
}

/**
 * Drivers on the bus without the real app: each is registered with a key on first use, sends
 * requests sealed with it, and every update Central seals for it is recorded, opened.
 */
export class StandInDrivers {
  readonly updates: DriverUpdate[] = [];
  private channels = new Map<string, DriverChannel>();
  private subscription?: Subscription;
  private requests = 0;

  constructor(
    private bus: Bus,
    private topics: Topics,
    private db: Db,
    private masterKey: Uint8Array,
  ) {}

  async listen(group: string): Promise<void> {
    this.subscription = await this.bus.subscribe({ topics: [this.topics.driverUpdates], groupId: group, from: "latest" }, async (batch: BusMessage[]) => {
      for (const m of batch) {
        const opened = await this.channels.get(m.key)?.open<DriverUpdate>(m);
        if (opened?.ok) this.updates.push(opened.payload);
      }
    });
  }

  /** The driver's channel, registering it (with a key) the first time. */
  async channelOf(driverId: string): Promise<DriverChannel> {
    let channel = this.channels.get(driverId);
    if (!channel) {
      channel = createDriverChannel(driverId, await registerDriverAndKey(this.db, this.masterKey, driverId));
      this.channels.set(driverId, channel);
    }
    return channel;
  }

  /** Sends a request as the driver would (sealed, keyed by the CP); returns its request id. */
  async ask(driverId: string, cpId: string, type: "charge_request" | "stop_request" = "charge_request", extra: object = {}): Promise<string> {
    const requestId = `r${++this.requests}-${driverId}`;
    await this.send(driverId, cpId, { type, request_id: requestId, driver_id: driverId, cp_id: cpId, at: new Date().toISOString(), ...extra });
    return requestId;
  }

  /** Seals any payload as the driver's request to a CP. */
  async send(driverId: string, cpId: string, payload: object): Promise<void> {
    await this.bus.publish(this.topics.driverRequests, [(await this.channelOf(driverId)).seal(payload, cpId)]);
  }

  of(driverId: string, type?: DriverUpdate["type"]): DriverUpdate[] {
    return this.updates.filter((u) => u.driver_id === driverId && (!type || u.type === type));
  }

  last<T extends DriverUpdate["type"]>(driverId: string, type: T): Extract<DriverUpdate, { type: T }> | undefined {
    return this.of(driverId, type).at(-1) as Extract<DriverUpdate, { type: T }> | undefined;
  }

  async close(): Promise<void> {
    await this.subscription?.close();
  }
}

export async function cpStatus(db: Db, cpId: string): Promise<string | undefined> {
  const [row] = await db.select({ status: chargingPoints.status }).from(chargingPoints).where(eq(chargingPoints.cpId, cpId));
  return row?.status;
}

export async function sessionRow(db: Db, sessionId: string) {
  const [row] = await db.select().from(chargingSessions).where(eq(chargingSessions.sessionId, sessionId));
  return row;
}

export async function sessionsAt(db: Db, cpId: string) {
  return db.select().from(chargingSessions).where(eq(chargingSessions.cpId, cpId));
}

export async function auditsOf(db: Db, resource: string) {
  return db.select().from(auditEvents).where(eq(auditEvents.resource, resource));
}
