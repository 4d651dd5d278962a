/**
 * Central never needs a second connection inside a transaction: with more batches applied at
 * once than its pool has connections, every batch that seals a command (and so reads the CP's
 * active key) still finishes. A transaction that waited for a connection of the pool would wait
 * for ever once every connection was held by transactions doing the same.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { MemoryBus, partitionFor } from "../../src/bus/memory.ts";
import type { Authorised } from "../../src/bus/messages.ts";
import { topicsFor } from "../../src/bus/topics.ts";
import { loadConfig } from "../../src/config/env.ts";
import { type ChannelKey, parseMasterKey } from "../../src/crypto/keys.ts";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { centralConfigSchema } from "../../src/roles/central/config.ts";
import { type RunningCentral, start } from "../../src/roles/central/index.ts";
import { controlKeyEnv } from "../support/control.ts";
import { newMasterKeyHex } from "../support/identity.ts";
import { announceAuthenticated, cpStatus, registerAndKey, StandInCp, StandInDrivers, sessionsAt } from "../support/network.ts";
import { createTestDatabase, type TestDatabase } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

const masterHex = newMasterKeyHex();
const masterKey = parseMasterKey(masterHex);
const topics = topicsFor("evnet");
/** The in-process bus's partitions (src/bus/memory.ts): each applied at once with the others. */
const PARTITIONS = 3;
let database: TestDatabase;
let handle: Database;
let bus: MemoryBus;
let central: RunningCentral;
let drivers: StandInDrivers;
const cps: StandInCp[] = [];
const keys: ChannelKey[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  // Two connections for batches of three partitions at once (and the sweeper, and deliveries).
  handle = await openDatabase({ url: database.url, maxConnections: 2 });
  bus = new MemoryBus();
  const config = loadConfig(centralConfigSchema, {}, { EVNET_MASTER_KEY: masterHex, ...controlKeyEnv(), CENTRAL_INSTANCE_ID: "pool-test" });
  central = await start(config, { database: handle, bus });
  drivers = new StandInDrivers(bus, topics, handle.db, masterKey);
  await drivers.listen("test-drivers");
});

afterAll(async () => {
  for (const cp of cps) await cp.close();
  await drivers?.close();
  await central?.stop();
  await bus?.close();
  await handle?.close();
  await database?.drop();
});

/** A CP id on each partition of the in-process bus. */
function oneCpPerPartition(): string[] {
  const ids = new Map<number, string>();
  for (let n = 1; ids.size < PARTITIONS; n++) {
    const id = `CP_POOL_${n}`;
    const p = partitionFor(id, PARTITIONS);
    if (!ids.has(p)) ids.set(p, id);
  }
  return [...ids.values()];
}

test("batches of more partitions than the pool has connections, each reading keys in its transaction, all finish", async () => {
  const ids = oneCpPerPartition();
  for (const cpId of ids) {
    const key = await registerAndKey(handle.db, masterKey, cpId);
    keys.push(key);
    const cp = new StandInCp(bus, topics, cpId, key);
    await cp.listen(`engine-${cpId}`);
    cps.push(cp);
    // Authenticated: Central forgets what it cached of the CP's keys, so sealing for it reads its active key.
    await announceAuthenticated(bus, topics, cpId, key);
    await cp.heartbeat(30);
  }
  for (const cpId of ids) await waitFor(async () => (await cpStatus(handle.db, cpId)) === "ACTIVE", `${cpId} ACTIVE`);
  // Authenticated again, all at once: each CP's announcement is applied in a transaction of its
  // own that reads the key and forgets what was cached (an ACTIVE CP stays ACTIVE: nothing is
  // sealed then). Then one charge request per partition, all at once: sealing its start reads
  // the CP's active key. Three transactions each time, two connections.
  await Promise.all(ids.map((cpId, i) => announceAuthenticated(bus, topics, cpId, keys[i]!)));
  const asked = await Promise.all(ids.map((cpId, i) => drivers.ask(`D_POOL_${i}`, cpId)));
  await waitFor(() => asked.every((id) => drivers.updates.some((u) => u.type === "authorised" && u.request_id === id)), "every request authorised", {
    timeoutMs: 20_000,
  });
  for (const [i, cp] of cps.entries()) {
    const answer = drivers.updates.find((u) => u.type === "authorised" && u.request_id === asked[i]) as Authorised;
    await waitFor(() => cp.commands.some((c) => c.type === "start_supply" && c.session_id === answer.session_id), `start_supply at ${cp.cpId}`);
    expect((await sessionsAt(handle.db, cp.cpId)).map((s) => s.sessionId)).toEqual([answer.session_id]);
  }
}, 40_000);
