/**
 * Applies the migrations drizzle-kit generated (embedded through migrations.generated.ts),
 * bookkept in drizzle's own table so drizzle-kit sees the same history. A transaction-level
 * advisory lock lets several roles start at once against one PostgreSQL without racing.
 */
import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "./client.ts";
import { migrationJournal, migrationSql } from "./migrations.generated.ts";

const MIGRATION_LOCK = 0x65766e65; // "evne"

export interface Migration {
  tag: string;
  statements: string[];
  createdAt: number;
  hash: string;
}

export function embeddedMigrations(): Migration[] {
  return migrationJournal.entries.map((entry) => {
    const text = migrationSql[entry.tag];
    if (text === undefined) throw new Error(`migration ${entry.tag} is in the journal but not embedded`);
    return {
      tag: entry.tag,
      statements: text.split("--> statement-breakpoint").filter((s) => s.trim()),
      createdAt: entry.when,
      hash: createHash("sha256").update(text).digest("hex"),
    };
  });
}

/** Returns the tags it applied (empty when the database was up to date). */
export async function migrate(db: Db, migrations: Migration[] = embeddedMigrations()): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await tx.execute(sql`create schema if not exists drizzle`);
    await tx.execute(sql`create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)`);
    const result: unknown = await tx.execute(sql`select created_at from drizzle.__drizzle_migrations order by created_at desc limit 1`);
    const last = Number(rowsOf<{ created_at: string | number }>(result)[0]?.created_at ?? -1);
    const applied: string[] = [];
    for (const m of migrations) {
      if (m.createdAt <= last) continue;
      for (const statement of m.statements) await tx.execute(sql.raw(statement));
      await tx.execute(sql`insert into drizzle.__drizzle_migrations (hash, created_at) values (${m.hash}, ${m.createdAt})`);
      applied.push(m.tag);
    }
    return applied;
  });
}
