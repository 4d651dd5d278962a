/**
 * A fleet of N chargers in a fresh database, in the state Central would have brought them to
 * after each one authenticated and a driver started charging: registered, holding its own
 * channel key (stored wrapped under the master key, exactly as the API stores it), connected,
 * SUPPLYING a session in progress for a driver who holds a channel key of its own. Written straight into the tables in bulk: N HTTPS
 * authentications and N charge requests would only measure the set-up, not the hot path.
 */

import { sql } from "drizzle-orm";
import { newChannelKey, wrapKey } from "../src/crypto/keys.ts";
import { type Db, openDatabase } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { chargingPoints, chargingSessions, cpKeys, driverKeys, drivers } from "../src/db/schema/index.ts";
import { costOf, energyOver, meterKwh } from "../src/domain/billing.ts";
import { cpId } from "./ceiling.ts";
import { dropDatabase } from "./drop-database.ts";
import { benchSql, databaseOnServer } from "./postgres.ts";

/** What the load generator needs to play one charger and its driver. */
export interface Charger {
  cpId: string;
  keyId: string;
  /** The channel key, base64url (the load generator seals with it). */
  key: string;
  driverId: string;
  /** The driver's channel key and its id, as for the charger. */
  driverKeyId: string;
  driverKey: string;
  sessionId: string;
  /** When the seeded session started (ms since the epoch). */
  startedAt: number;
  pricePerKwh: number;
}

export interface BenchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

const CITIES = ["Madrid", "Alicante", "Valencia", "Sevilla", "Bilbao", "Zaragoza"];
const CHUNK = 1000;

/** An empty database next to the services' own one, migrated; `drop()` removes it. */
export async function createBenchDatabase(serverUrl: string): Promise<BenchDatabase> {
  const name = `evnet_bench_${Date.now().toString(36)}`;
  const admin = benchSql(serverUrl);
  await admin.unsafe(`create database ${name}`).finally(() => admin.end());
  const url = databaseOnServer(serverUrl, name);
  const database = await openDatabase({ url, maxConnections: 2 });
  await migrate(database.db).finally(() => database.close());
  return {
    url,
    name,
    // A step's figures are taken before its database is dropped: one that cannot be dropped
    // is left, and said so, rather than failing the run and losing them.
    drop: () =>
      dropDatabase(serverUrl, name).catch((err: unknown) =>
        console.error(`bench: could not drop database ${name} (${(err as Error).message}); it is left for you to drop`),
      ),
  };
}

export interface FleetShape {
  count: number;
  /** Sessions began up to this long ago (plus `minAgeS`), so they end at a steady rate from the first second. */
  meanSessionS: number;
  powerKw: number;
  /** The heartbeat interval the monitors announced (Central calls a CP silent after 3). */
  heartbeatS: number;
  minAgeS?: number;
}

/** Inserts `shape.count` supplying chargers. */
export async function seedFleet(databaseUrl: string, masterKey: Uint8Array, shape: FleetShape): Promise<Charger[]> {
  const { count, meanSessionS, powerKw, heartbeatS } = shape;
  const database = await openDatabase({ url: databaseUrl, maxConnections: 2 });
  const now = Date.now();
  const chargers: Charger[] = [];
  try {
    for (let from = 0; from < count; from += CHUNK) {
      const chunk: Charger[] = [];
      const wrapped: { cp: string; driver: string }[] = [];
      for (let i = from; i < Math.min(count, from + CHUNK); i++) {
        const key = newChannelKey();
        const driverKey = newChannelKey("driver");
        const id = cpId(i);
        const driverId = `D-${String(i).padStart(6, "0")}`;
        const pricePerKwh = 0.3 + (i % 5) * 0.05;
        chunk.push({
          cpId: id,
          keyId: key.keyId,
          key: Buffer.from(key.key).toString("base64url"),
          driverId,
          driverKeyId: driverKey.keyId,
          driverKey: Buffer.from(driverKey.key).toString("base64url"),
          sessionId: `S-bench-${i}`,
          startedAt: now - Math.round(((shape.minAgeS ?? 0) + Math.random() * meanSessionS) * 1000),
          pricePerKwh: Math.round(pricePerKwh * 100) / 100,
        });
        wrapped.push({
          cp: wrapKey(masterKey, { type: "cp", id }, key.keyId, key.key),
          driver: wrapKey(masterKey, { type: "driver", id: driverId }, driverKey.keyId, driverKey.key),
        });
      }
      await insertChunk(database.db, chunk, wrapped, { powerKw, heartbeatS }, now);
      chargers.push(...chunk);
    }
    await database.db.execute(sql`analyze`);
  } finally {
    await database.close();
  }
  return chargers;
}

async function insertChunk(
  db: Db,
  chunk: Charger[],
  wrapped: { cp: string; driver: string }[],
  { powerKw, heartbeatS }: { powerKw: number; heartbeatS: number },
  now: number,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.insert(chargingPoints).values(
      chunk.map((c, i) => ({
        cpId: c.cpId,
        location: CITIES[i % CITIES.length]!,
        pricePerKwh: c.pricePerKwh,
        status: "SUPPLYING" as const,
        statusReason: `session ${c.sessionId} started for driver ${c.driverId}`,
        channelState: "active" as const,
        connected: true,
        heartbeatIntervalS: heartbeatS,
        lastConnectionTime: new Date(now),
      })),
    );
    await tx.insert(cpKeys).values(chunk.map((c, i) => ({ keyId: c.keyId, cpId: c.cpId, wrappedKey: wrapped[i]!.cp })));
    await tx.insert(drivers).values(
      chunk.map((c) => ({
        driverId: c.driverId,
        status: "CHARGING" as const,
        currentSessionId: c.sessionId,
        credentialHash: "bench",
        registeredAt: new Date(now),
      })),
    );
    await tx.insert(driverKeys).values(chunk.map((c, i) => ({ keyId: c.driverKeyId, driverId: c.driverId, wrappedKey: wrapped[i]!.driver })));
    await tx.insert(chargingSessions).values(
      chunk.map((c) => {
        const energy = meterKwh(energyOver(powerKw, now - c.startedAt));
        return {
          sessionId: c.sessionId,
          cpId: c.cpId,
          driverId: c.driverId,
          pricePerKwh: c.pricePerKwh,
          powerKw,
          energyKwh: energy,
          costEur: costOf(energy, c.pricePerKwh),
          startedAt: new Date(c.startedAt),
          supplyStartedAt: new Date(c.startedAt),
        };
      }),
    );
  });
}
