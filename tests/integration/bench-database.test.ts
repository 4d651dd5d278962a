/**
 * A benchmark step's (or a test file's) database is dropped even while an autovacuum worker
 * is on it: a superuser's backend, which WITH (FORCE) may not end for the evnet role. Here a
 * superuser's session stands in for the worker.
 */
import { describe, expect, test } from "bun:test";
import postgres from "postgres";
import { dropDatabase } from "../../bench/drop-database.ts";
import { requireEnv, uniqueName } from "../support/services.ts";

const adminUrl = requireEnv("TEST_DATABASE_URL");

function urlOf(name: string, user?: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  if (user) {
    url.username = user;
    url.password = "";
  }
  return url.toString();
}

async function exists(name: string): Promise<boolean> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    return (await admin`select 1 from pg_database where datname = ${name}`).length === 1;
  } finally {
    await admin.end();
  }
}

describe("dropping a bench or test database", () => {
  test("waits for a backend it may not end, and drops the database once it is gone", async () => {
    const name = uniqueName("evnet_drop");
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`).finally(() => admin.end());
    // The test services trust loopback connections: the bootstrap superuser stands in for autovacuum.
    const superuser = postgres(urlOf(name, "postgres"), { max: 1, onnotice: () => {} });
    await superuser`select 1`;
    try {
      // Given up after its tries: the error says why, and the database is still there.
      const refused = await dropDatabase(adminUrl, name, { tries: 3, pauseMs: 50 }).catch((e: unknown) => e as { code?: string });
      expect(refused).toMatchObject({ code: "42501" });
      expect(await exists(name)).toBe(true);

      // Tried again meanwhile: dropped once the superuser's session ends.
      const dropping = dropDatabase(adminUrl, name, { tries: 100, pauseMs: 50 });
      await Bun.sleep(300);
      await superuser.end();
      await dropping;
      expect(await exists(name)).toBe(false);
    } finally {
      await superuser.end();
      await dropDatabase(adminUrl, name).catch(() => {});
    }
  });

  test("any other failure is not waited on", async () => {
    // Were it waited on, the pause would outlast the test.
    const err = await dropDatabase(adminUrl, "not a name", { tries: 2, pauseMs: 600_000 }).catch((e: unknown) => e as { code?: string });
    expect(err).toMatchObject({ code: "42601" }); // a syntax error: tried once
  });
});
