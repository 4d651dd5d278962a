/**
 * One process per data folder. An embedded database (PGlite) has no server to arbitrate between
 * processes: two opening the same folder corrupt each other's view of it, and two `evnet up`
 * in one folder would run two networks on one set of CP keys. So whoever uses the folder holds a
 * lock file in it, `evnet.lock`, naming its process; others are refused with that name. A lock
 * left by a process that is gone (killed, crashed) is taken over. Within one process the lock is
 * shared (`evnet up` holds it, and its database opens under it).
 */
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { EXIT, KnownError } from "../lib/errors.ts";
import { localTime } from "../lib/local-time.ts";

export const LOCK_FILE = "evnet.lock";
/** Where PGlite keeps its files inside the data folder. */
export const PGDATA = "pgdata";

interface LockOwner {
  pid: number;
  host: string;
  /** The process's start time (Linux: clock ticks after boot), so a reused pid is not mistaken for it. */
  started?: string;
  command: string;
  since: string;
}

export class DataFolderInUse extends KnownError {
  override name = "DataFolderInUse";
  constructor(
    readonly dir: string,
    readonly owner: LockOwner,
  ) {
    super(`the data folder ${dir} is in use by pid ${owner.pid} (${owner.command}, since ${localTime(owner.since)})`, {
      hint: "one process per data folder: stop that one, or use another --data-dir; with PostgreSQL (DATABASE_URL) every role can share the database",
      exitCode: EXIT.unavailable,
    });
  }
}

/** The start time of a process, from /proc (Linux); undefined where there is no /proc. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function alive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true; // a folder shared over the network: cannot tell, so respect it
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  const started = startTimeOf(owner.pid);
  return !owner.started || !started || started === owner.started;
}

function readOwner(file: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as LockOwner;
  } catch {
    return undefined; // not a lock evnet wrote
  }
}

const held = new Map<string, number>();

/** Locks `dir` for this process (creating it); returns the release. */
export function lockDataFolder(dir: string, command = process.argv.slice(2, 3).join(" ") || "evnet"): () => void {
  const key = resolve(dir);
  const release = () => {
    const count = (held.get(key) ?? 1) - 1;
    if (count > 0) return void held.set(key, count);
    held.delete(key);
    rmSync(join(key, LOCK_FILE), { force: true });
  };
  if (held.has(key)) {
    held.set(key, held.get(key)! + 1);
    return release;
  }
  mkdirSync(key, { recursive: true });
  const file = join(key, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), started: startTimeOf(process.pid), command: `evnet ${command}`, since: new Date().toISOString() };
  // Written aside, then linked into place: the lock appears whole or not at all, and link()
  // fails when the name is taken, so two processes cannot both create it.
  const mine = `${file}.${process.pid}`;
  writeFileSync(mine, JSON.stringify(me), { mode: 0o644 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(mine, file);
        held.set(key, 1);
        process.once("exit", () => held.has(key) && rmSync(file, { force: true }));
        return release;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const owner = readOwner(file);
      if (owner && alive(owner)) throw new DataFolderInUse(key, owner);
      rmSync(file, { force: true }); // its process is gone (or the file is not a lock): take it over
    }
  } finally {
    rmSync(mine, { force: true });
  }
  throw new KnownError(`could not lock the data folder ${key}: other processes keep taking it`, { exitCode: EXIT.unavailable });
}

/** Whether the data folder holds an embedded database. */
export function hasEmbeddedDatabase(dir: string): boolean {
  return existsSync(join(dir, PGDATA, "PG_VERSION"));
}
