import type { CAC } from "cac";

export function register(cli: CAC): void {
  cli
    .command("migrate", "Apply the database migrations (PostgreSQL with DATABASE_URL, else the embedded database)")
    .option("--database-url <url>", "PostgreSQL URL (env DATABASE_URL)")
    .option("--data-dir <dir>", "embedded database folder (env EVNET_DATA_DIR, default ./.evnet)")
    .action(async (opts: { databaseUrl?: string; dataDir?: string }) => {
      const { loadConfig } = await import("../../config/env.ts");
      const v = await import("valibot");
      const { databaseEntries } = await import("../../config/common.ts");
      const config = loadConfig(v.object(databaseEntries), { DATABASE_URL: opts.databaseUrl, EVNET_DATA_DIR: opts.dataDir });
      const { openDatabase } = await import("../../db/client.ts");
      const { migrate } = await import("../../db/migrate.ts");
      const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.EVNET_DATA_DIR });
      try {
        const applied = await migrate(database.db);
        console.log(
          applied.length ? `applied ${applied.length} migration(s) to ${database.location}: ${applied.join(", ")}` : `${database.location} is up to date`,
        );
      } finally {
        await database.close();
      }
    });
}
