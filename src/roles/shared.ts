/** Handles `evnet up` passes to each role so that all of them share one database and one in-process bus. */
import type { Bus } from "../bus/bus.ts";
import { type Database, openDatabase } from "../db/client.ts";
import type { Logger } from "../lib/log.ts";

export interface Shared {
  database?: Database;
  bus?: Bus;
  log?: Logger;
}

/** A role's database settings (src/config/common.ts's databaseSettings). */
export interface DatabaseSettings {
  DATABASE_URL?: string;
  EVNET_DATA_DIR: string;
  DATABASE_POOL_SIZE: number;
  DATABASE_START_WAIT_S: number;
  DATABASE_PREPARED_STATEMENTS: boolean;
}

/**
 * The database a role works on: the one `evnet up` shares, else a pool of its own, named
 * `evnet <role>` in pg_stat_activity, connected at once (waiting DATABASE_START_WAIT_S for a
 * server that is not up yet). The caller closes it only when it opened it (`!shared.database`).
 */
export async function roleDatabase(shared: Shared, config: DatabaseSettings, role: string, log: Logger): Promise<Database> {
  log.info("opening database");
  return (
    shared.database ??
    openDatabase({
      url: config.DATABASE_URL,
      dataDir: config.EVNET_DATA_DIR,
      maxConnections: config.DATABASE_POOL_SIZE,
      applicationName: `evnet ${role}`,
      connectNow: true,
      waitS: config.DATABASE_START_WAIT_S,
      preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
      onWait: (problem) => log.warn(`${problem.message}; trying again every second`),
    })
  );
}
