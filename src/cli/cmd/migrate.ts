import type { CAC } from "cac";
import { databaseSettings, logSettings } from "../../config/common.ts";
import { defineSettings } from "../../config/settings.ts";
import { defineCommand } from "../command.ts";

const migrateSettings = defineSettings({ ...databaseSettings, ...logSettings });

export function register(cli: CAC): void {
  defineCommand(
    cli,
    {
      usage: "migrate",
      description: "Apply the database migrations (PostgreSQL with DATABASE_URL, else the embedded database)",
      settings: migrateSettings,
      examples: ["evnet migrate --database-url postgres://evnet:secret@db.example.lan:5432/evnet"],
    },
    async ({ flags }) => {
      const { loadSettings } = await import("../../config/settings.ts");
      const config = loadSettings(migrateSettings, flags);
      const { openDatabase } = await import("../../db/client.ts");
      const { migrate } = await import("../../db/migrate.ts");
      const database = await openDatabase({
        url: config.DATABASE_URL,
        dataDir: config.EVNET_DATA_DIR,
        applicationName: "evnet migrate",
        connectNow: true,
        preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
      });
      try {
        const applied = await migrate(database.db);
        console.log(
          applied.length ? `applied ${applied.length} migration(s) to ${database.location}: ${applied.join(", ")}` : `${database.location} is up to date`,
        );
      } finally {
        await database.close();
      }
    },
  );
}
