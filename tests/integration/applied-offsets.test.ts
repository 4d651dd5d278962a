/**
 * A batch's transaction locks its partition's applied offset and advances it in ONE statement
 * (AppliedOffsets.claim): from the offset the batch was read from to the one after it. When the
 * offset is not the one expected (another instance applied the partition meanwhile), nothing
 * changes and the offset found is returned, for the caller to undo its transaction; the row
 * stays locked until then, so two deliveries of one batch are applied one after the other.
 * On PostgreSQL and on the embedded PGlite.
 */
import { describe, expect, test } from "bun:test";
import type { Database } from "../../src/db/client.ts";
import { AppliedOffsets, type PartitionRef } from "../../src/roles/central/offsets.ts";
import { bothDatabases } from "../support/services.ts";

const databases = bothDatabases();

const ROLLED_BACK = new Error("rolled back");

/** Claims in a transaction that commits only when the claim succeeded (as Central's batches do). */
async function claimIn(database: Database, p: PartitionRef, from: bigint, to: bigint): Promise<bigint | undefined> {
  const offsets = new AppliedOffsets();
  let moved: bigint | undefined;
  await database.db
    .transaction(async (tx) => {
      moved = await offsets.claim(tx, p, from, to);
      if (moved !== undefined) throw ROLLED_BACK;
    })
    .catch((err: unknown) => {
      if (err !== ROLLED_BACK) throw err;
    });
  return moved;
}

for (const kind of ["postgres", "pglite"] as const) {
  describe(`a partition's applied offset (${kind})`, () => {
    test("is taken from 0 on the first batch, then from where the last one ended", async () => {
      const database = databases[kind]!;
      const p: PartitionRef = { group: "g1", topic: "t", partition: 3 };
      expect(await claimIn(database, p, 0n, 10n)).toBeUndefined();
      expect(await new AppliedOffsets().peek(database.db, p)).toBe(10n);
      expect(await claimIn(database, p, 10n, 25n)).toBeUndefined();
      expect(await new AppliedOffsets().peek(database.db, p)).toBe(25n);
    });

    test("is not moved by a batch that expected another offset, which learns the one found", async () => {
      const database = databases[kind]!;
      const p: PartitionRef = { group: "g2", topic: "t", partition: 0 };
      expect(await claimIn(database, p, 0n, 40n)).toBeUndefined();
      // Read from 10 (a redelivery, another instance's progress unknown): refused, told 40.
      expect(await claimIn(database, p, 10n, 30n)).toBe(40n);
      expect(await new AppliedOffsets().peek(database.db, p)).toBe(40n);
      // A partition never applied, claimed from further on: refused, told 0, and nothing is written.
      const fresh: PartitionRef = { group: "g2", topic: "t", partition: 1 };
      expect(await claimIn(database, fresh, 7n, 9n)).toBe(0n);
      expect(await new AppliedOffsets().peek(database.db, fresh)).toBe(0n);
    });
  });
}

describe("two deliveries of one batch (PostgreSQL)", () => {
  test("the second waits for the first and then finds the offset moved", async () => {
    const { db } = databases.postgres!;
    const p: PartitionRef = { group: "g3", topic: "t", partition: 0 };
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let claimedFirst!: () => void;
    const firstClaimed = new Promise<void>((r) => {
      claimedFirst = r;
    });
    const first = db.transaction(async (tx) => {
      expect(await new AppliedOffsets().claim(tx, p, 0n, 50n)).toBeUndefined();
      claimedFirst();
      await held;
    });
    await firstClaimed;
    let secondDone = false;
    const second = claimIn(databases.postgres!, p, 0n, 50n).then((moved) => {
      secondDone = true;
      return moved;
    });
    await Bun.sleep(300);
    expect(secondDone).toBe(false); // waiting for the first's lock
    release();
    await first;
    expect(await second).toBe(50n);
  });
});
