/**
 * Drops a database made for one benchmark step or one test file. `WITH (FORCE)` ends the
 * sessions still on it, but not an autovacuum worker (a superuser's backend, which the evnet
 * role may not end: 42501) that PostgreSQL started on its tables after a busy step. Such a
 * worker finishes within seconds, so the drop is tried again meanwhile.
 */
import { benchSql } from "./postgres.ts";

/** 42501: a backend of another role (autovacuum) holds it; 55006: still in use. */
const WAIT_FOR = new Set(["42501", "55006"]);

export async function dropDatabase(serverUrl: string, name: string, { tries = 30, pauseMs = 1000 } = {}): Promise<void> {
  const admin = benchSql(serverUrl);
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.unsafe(`drop database if exists ${name} with (force)`);
        return;
      } catch (err) {
        if (!WAIT_FOR.has((err as { code?: string }).code ?? "") || attempt >= tries) throw err;
        await Bun.sleep(pauseMs);
      }
    }
  } finally {
    await admin.end();
  }
}
