/**
 * Access to the real PostgreSQL and Kafka that `npm test` brings up (scripts/services.sh).
 * Each test file gets its own database and its own topic prefix, so files can run in any
 * order and leave nothing behind that another file sees.
 */

import { afterAll, beforeAll } from "bun:test";
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { dropDatabase } from "../../bench/drop-database.ts";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";

export function requireEnv(name: "TEST_DATABASE_URL" | "TEST_KAFKA_BROKERS"): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with 'npm test', which starts PostgreSQL and Kafka (scripts/services.sh)`);
  return value;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates an empty database on the test server; `drop()` removes it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = requireEnv("TEST_DATABASE_URL");
  const name = uniqueName("evnet_t");
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => dropDatabase(adminUrl, name, { tries: 20, pauseMs: 250 }),
  };
}

export function kafkaBrokers(): string[] {
  return requireEnv("TEST_KAFKA_BROKERS").split(",");
}

/** A topic prefix no other test uses. */
export function testTopicPrefix(): string {
  return uniqueName("t").replace(/_/g, "-");
}

/**
 * A migrated PostgreSQL test database and a migrated in-memory PGlite one, opened before the
 * file's tests and closed (and dropped) after them: for a test that must hold on both.
 */
export function bothDatabases(): Record<"postgres" | "pglite", Database> {
  let testDb: TestDatabase | undefined;
  const databases = {} as Record<"postgres" | "pglite", Database>;
  beforeAll(async () => {
    testDb = await createTestDatabase();
    databases.postgres = await openDatabase({ url: testDb.url, maxConnections: 2 });
    databases.pglite = await openDatabase({ inMemory: true });
    for (const d of Object.values(databases)) await migrate(d.db);
  }, 60_000);
  afterAll(async () => {
    for (const d of Object.values(databases)) await d?.close();
    await testDb?.drop();
  });
  return databases;
}
