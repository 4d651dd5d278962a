/** What every HTTP role's own health endpoint reports about itself and its database. */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";

export interface OwnHealth {
  status: "ok" | "degraded";
  uptime_s: number;
  database: "ok" | "down";
  /** 200 when the database answers, 503 when it does not (same body). */
  httpStatus: 200 | 503;
}

export async function ownHealth(db: Db, startedAt: Date): Promise<OwnHealth> {
  let database: OwnHealth["database"] = "ok";
  try {
    await db.execute(sql`select 1`);
  } catch {
    database = "down";
  }
  return {
    status: database === "ok" ? "ok" : "degraded",
    uptime_s: Math.round((Date.now() - startedAt.getTime()) / 1000),
    database,
    httpStatus: database === "ok" ? 200 : 503,
  };
}
