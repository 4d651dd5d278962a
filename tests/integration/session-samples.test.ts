/**
 * Readings kept for charts are forgotten after KEEP_DAYS: the pruning Central runs at start and
 * every hour deletes the older ones and keeps the rest, found through the time index (a BRIN
 * index since rows come in time order). On PostgreSQL and on the embedded PGlite.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { rowsOf } from "../../src/db/client.ts";
import { createLogger } from "../../src/lib/log.ts";
import { KEEP_DAYS, startSamplePruning } from "../../src/roles/central/samples.ts";
import { bothDatabases } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

const databases = bothDatabases();

for (const kind of ["postgres", "pglite"] as const) {
  describe(`session samples (${kind})`, () => {
    test(`older than ${KEEP_DAYS} days are deleted, the others kept`, async () => {
      const { db } = databases[kind]!;
      // Five hours of samples, one every 5 minutes, from KEEP_DAYS + 1 days ago; and the last hour's.
      await db.execute(sql`
        insert into session_samples (session_id, cp_id, at, power_kw, energy_kwh)
        select 'S-old', 'CP_1', now() - make_interval(days => ${KEEP_DAYS + 1}) + g * interval '5 minutes', 7, g from generate_series(0, 59) g`);
      await db.execute(sql`
        insert into session_samples (session_id, cp_id, at, power_kw, energy_kwh)
        select 'S-new', 'CP_1', now() - g * interval '1 minute', 7, g from generate_series(0, 59) g`);
      const [index] = rowsOf<{ def: string }>(await db.execute(sql`select indexdef as def from pg_indexes where indexname = 'session_samples_at_idx'`));
      expect(index?.def).toContain("USING brin");
      const pruning = startSamplePruning(db, createLogger("test"));
      try {
        const left = async () =>
          rowsOf<{ session_id: string; n: string | number }>(
            await db.execute(sql`select session_id, count(*) as n from session_samples group by session_id order by session_id`),
          ).map((r) => [r.session_id, Number(r.n)]);
        await waitFor(async () => (await left()).length === 1, "the old samples deleted");
        expect(await left()).toEqual([["S-new", 60]]);
      } finally {
        pruning.stop();
      }
    });
  });
}
